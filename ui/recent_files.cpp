#include "ui/recent_files.h"

#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace impasto {

namespace {

const char* kKey = "recentFiles";

QString prefix(RecentFiles::Role role) {
  switch (role) {
    case RecentFiles::Role::Style: return QStringLiteral("style:");
    case RecentFiles::Role::Preset: return QStringLiteral("preset:");
    case RecentFiles::Role::Content: break;
  }
  return QStringLiteral("content:");
}

}  // namespace

RecentFiles::RecentFiles(QObject* parent) : QObject(parent) {}

QStringList RecentFiles::load() const { return QSettings().value(QLatin1String(kKey)).toStringList(); }

void RecentFiles::save(const QStringList& encoded) {
  QSettings().setValue(QLatin1String(kKey), encoded);
  emit changed();
}

void RecentFiles::add(Role role, const QString& path) {
  if (path.isEmpty()) return;
  const QString entry = prefix(role) + QFileInfo(path).absoluteFilePath();
  QStringList list = load();
  list.removeAll(entry);
  list.prepend(entry);
  while (list.size() > kMaximum) list.removeLast();
  save(list);
}

void RecentFiles::clear() { save({}); }

QList<RecentFiles::Entry> RecentFiles::entries() const {
  QList<Entry> result;
  for (const QString& encoded : load()) {
    for (Role role : {Role::Content, Role::Style, Role::Preset}) {
      if (encoded.startsWith(prefix(role))) {
        result.append({role, encoded.mid(prefix(role).size())});
        break;
      }
    }
  }
  return result;
}

void RecentFiles::fillMenu(QMenu* menu) {
  menu->clear();
  int shown = 0;
  for (const Entry& e : entries()) {
    if (!QFileInfo::exists(e.path)) continue;
    const QString role = e.role == Role::Content ? tr("content") : e.role == Role::Style ? tr("style") : tr("preset");
    QAction* action = menu->addAction(QStringLiteral("&%1 %2  (%3)").arg(++shown % 10).arg(QFileInfo(e.path).fileName(), role));
    action->setToolTip(QDir::toNativeSeparators(e.path));
    connect(action, &QAction::triggered, this, [this, e] { emit openRequested(e.role, e.path); });
  }
  if (shown == 0) menu->addAction(tr("No recent files"))->setEnabled(false);
  menu->addSeparator();
  connect(menu->addAction(tr("Clear recent files")), &QAction::triggered, this, &RecentFiles::clear);
}

}  // namespace impasto
