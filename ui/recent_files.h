#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace impasto {

// The recently used content images, style images and presets, newest first,
// kept in QSettings. Each entry remembers what the file was used as, so
// reopening puts it back where it was.
class RecentFiles : public QObject {
  Q_OBJECT

 public:
  enum class Role { Content, Style, Preset };

  explicit RecentFiles(QObject* parent = nullptr);

  void add(Role role, const QString& path);
  void clear();
  struct Entry {
    Role role;
    QString path;
  };
  QList<Entry> entries() const;
  // Rebuilds menu: one action per existing file, then "Clear".
  void fillMenu(QMenu* menu);

  static constexpr int kMaximum = 12;

 signals:
  void changed();
  void openRequested(impasto::RecentFiles::Role role, const QString& path);

 private:
  void save(const QStringList& encoded);
  QStringList load() const;
};

}  // namespace impasto
