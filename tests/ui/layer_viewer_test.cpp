// The layer viewer: core's strongestChannels and the dialog that shows them.
#include <QSignalSpy>
#include <gtest/gtest.h>

#include "core/util/error.h"
#include "core/engine/layer_activations.h"
#include "ui/layer_viewer_dialog.h"
#include "tests/ui/ui_test_support.h"

namespace impasto {
namespace {

TEST(LayerActivationsTest, StrongestChannelsAreNormalisedAndOrdered) {
  const ModelPtr model = uitest::makeTinyModel();
  const cv::Mat image = uitest::makePicture(40, 32, 1);
  const auto channels = strongestChannelActivations(*model, image, "relu2", 5, 0);
  ASSERT_EQ(channels.size(), 5u);
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const cv::Mat& map = channels[i].map;
    EXPECT_EQ(map.type(), CV_32F);
    EXPECT_EQ(map.size(), cv::Size(20, 16)) << "relu2 is after one 2x2 pooling";
    double lo = 0, hi = 0;
    cv::minMaxLoc(map, &lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0 + 1e-6);
    if (i > 0) {
      EXPECT_GE(channels[i - 1].mean, channels[i].mean) << "strongest first";
    }
  }
  // Asking for more channels than the layer has gives them all (relu2 has 16).
  EXPECT_EQ(strongestChannels(*model, image, "relu2", 100, 0).size(), 16u);
}

TEST(LayerActivationsTest, LargeImagesAreShrunkFirst) {
  const ModelPtr model = uitest::makeTinyModel();
  const auto maps = strongestChannels(*model, uitest::makePicture(200, 100, 0), "relu1", 2, 50);
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[0].size(), cv::Size(50, 25));
}

TEST(LayerActivationsTest, UnknownLayersAndEmptyImagesAreErrors) {
  const ModelPtr model = uitest::makeTinyModel();
  EXPECT_THROW(strongestChannels(*model, uitest::makePicture(8, 8), "nope", 3, 0), Error);
  EXPECT_THROW(strongestChannels(*model, cv::Mat(), "relu1", 3, 0), Error);
}

TEST(LayerViewerDialogTest, ShowsAGridOfTheStrongestChannels) {
  LayerViewerDialog dialog;
  QSignalSpy computed(&dialog, &LayerViewerDialog::computed);
  dialog.setSources({{QStringLiteral("Content"), uitest::makePicture(40, 32, 0)},
                     {QStringLiteral("Style"), uitest::makePicture(40, 32, 1)}});
  dialog.setModel(uitest::makeTinyModel());
  ASSERT_TRUE(uitest::waitUntil([&] { return computed.count() >= 1 && !dialog.isComputing(); }));
  dialog.setLayer(QStringLiteral("relu1"));  // 8 channels, fewer than the default 16
  ASSERT_TRUE(uitest::waitUntil([&] { return dialog.tileCount() == 8 && !dialog.isComputing(); }));
  EXPECT_EQ(computed.last().at(0).toInt(), 8);
}

}  // namespace
}  // namespace impasto
