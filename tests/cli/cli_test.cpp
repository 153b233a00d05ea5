// impasto-cli as a user runs it: exit codes, one-line messages, Ctrl-C, outputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <thread>

#include "core/io/image_io.h"
#include "tests/support/aten_ops.h"
#include "tests/support/onnx_writer.h"
#include "tests/support/pickle_writer.h"
#include "tests/support/test_paths.h"
#include "tests/support/test_support.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace impasto {
namespace {

using test::RunResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writeImage("content.png", 40, 30, 0);
    writeImage("style.png", 32, 32, 1);
    writeTinyOnnx(dir_ / "tiny.onnx");
  }

  void writeImage(const std::string& name, int w, int h, int pattern) {
    cv::Mat image(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        image.at<cv::Vec3b>(y, x) = pattern ? cv::Vec3b((x / 4 % 2) * 200, 50, (y / 4 % 2) * 200)
                                            : cv::Vec3b(uchar(x * 6), uchar(y * 8), 128);
    cv::imwrite((dir_ / name).string(), image);
  }

  static void writeTinyOnnx(const fs::path& path) {
    at::manual_seed(7);
    test::OnnxWriter onnx;
    onnx.conv("conv1", "image", "c1", at::randn({8, 3, 3, 3}) * 0.3, at::zeros({8}), 1, 1)
        .relu("relu1", "c1", "r1")
        .maxPool("pool1", "r1", "p1", 2, 2)
        .conv("conv2", "p1", "c2", at::randn({8, 8, 3, 3}) * 0.2, at::zeros({8}), 1, 1)
        .relu("relu2", "c2", "r2")
        .output("r2");
    onnx.save(path);
  }

  RunResult run(const std::string& arguments) const {
    const std::string command =
        "cd '" + dir_.string() + "' && '" + test::cliPath() + "' " + arguments + " 2>&1";
    return test::runShell(command);
  }

  std::string render(const std::string& extra, const std::string& output = "out.png") const {
    return "--content content.png --style style.png --model tiny.onnx --size 32 --iterations 3 --threads 1 "
           "--output " +
           output + " " + extra;
  }

  test::ScratchDir scratch_{"impasto-cli-test"};
  const fs::path dir_ = scratch_.path();
};

// The JSON lines of a run, without the memory plan of each level.
std::vector<nlohmann::json> stepLines(const std::string& output) {
  std::vector<nlohmann::json> lines;
  std::istringstream stream(output);
  for (std::string line; std::getline(stream, line);)
    if (!line.empty() && line[0] == '{') {
      auto json = nlohmann::json::parse(line);
      if (!json.contains("memory")) lines.push_back(std::move(json));
    }
  return lines;
}

// No file may be left behind under the output name, and no temporary beside it.
void expectNoOutput(const fs::path& dir) {
  EXPECT_FALSE(fs::exists(dir / "out.png"));
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr("out.png")));
}

TEST_F(CliTest, RendersAndReportsJsonLines) {
  RunResult r =
      run(render("--json --alpha 1 --beta 100 --style-layers relu1:0.5,relu2:0.5 --content-layer relu2"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  const auto lines = stepLines(r.output);
  ASSERT_EQ(lines.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["iteration"], i + 1);
    for (const char* key : {"loss", "content_loss", "style_loss", "elapsed_s"})
      EXPECT_TRUE(lines[i].contains(key));
  }
  EXPECT_EQ(lines[3]["done"], true);
  EXPECT_EQ(lines[3]["output"], "out.png");
  cv::Mat out = cv::imread((dir_ / "out.png").string());
  EXPECT_EQ(out.cols, 32);
  EXPECT_EQ(out.rows, 24);
  EXPECT_THAT(readPngText(dir_ / "out.png").at("impasto:settings"), HasSubstr("\"beta\":100"));
}

TEST_F(CliTest, EachLevelReportsItsMemoryAndTiling) {
  RunResult r = run(render("--json --scales 2 --tile 16"));
  ASSERT_EQ(r.exitCode, 0) << r.output;
  std::vector<nlohmann::json> plans;
  std::istringstream stream(r.output);
  for (std::string line; std::getline(stream, line);)
    if (line.rfind("{\"level\"", 0) == 0 && line.find("\"memory\"") != std::string::npos)
      plans.push_back(nlohmann::json::parse(line)["memory"]);
  ASSERT_EQ(plans.size(), 2u) << r.output;
  EXPECT_EQ(plans[1]["width"], 32);
  EXPECT_EQ(plans[1]["tile"], 16);
  EXPECT_GT(plans[1]["estimate_gb"].get<double>(), 0.0);
  EXPECT_GT(plans[1]["budget_gb"].get<double>(), 0.0);

  // A budget no render fits: refused before any work, saying what it needs.
  fs::remove(dir_ / "out.png");
  r = run(render("--max-memory 0.1 --size 16000"));
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("needs about"));
  expectNoOutput(dir_);
}

// The issue's check on a real network: darknet at 768 px in 256 px tiles has
// the untiled J at every step.
TEST_F(CliTest, TiledDarknetRenderMatchesTheUntiledOneStepByStep) {
  const fs::path model = test::sharedDir() / "models" / "darknet-reference" / "darknet-reference-conv5.onnx";
  const fs::path images = test::sharedDir() / "images";
  if (!fs::exists(model)) GTEST_SKIP() << "needs ../shared (darknet-reference)";
  const std::string job = "--content '" + (images / "tubingen.jpg").string() + "' --style '" +
                          (images / "starry_night.jpg").string() + "' --model '" + model.string() +
                          "' --size 768 --scales 1 --iterations 3 --json ";
  const RunResult whole = run(job + "--output whole.png");
  const RunResult tiled = run(job + "--output tiled.png --tile 256");
  ASSERT_EQ(whole.exitCode, 0) << whole.output;
  ASSERT_EQ(tiled.exitCode, 0) << tiled.output;
  const auto a = stepLines(whole.output), b = stepLines(tiled.output);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), a.size());
  for (std::size_t i = 0; i < 3; ++i) {
    const double j = a[i]["loss"].get<double>();
    EXPECT_NEAR(b[i]["loss"].get<double>(), j, 1e-3 * j) << "step " << i + 1;
  }
}

TEST_F(CliTest, HelpAndVersion) {
  EXPECT_EQ(run("--help").exitCode, 0);
  EXPECT_THAT(run("--help").output, HasSubstr("--style-layers"));
  RunResult v = run("--version");
  EXPECT_EQ(v.exitCode, 0);
  EXPECT_THAT(v.output, HasSubstr("impasto-cli"));
}

// The pixels of a written image, to compare renders without their metadata.
cv::Mat pixels(const fs::path& path) { return cv::imread(path.string(), cv::IMREAD_UNCHANGED); }

TEST_F(CliTest, PresetFromAnExportedPngReproducesTheRenderPixelForPixel) {
  const std::string look =
      "--seed 9 --init noise --pooling avg --beta 300 --style-layers relu1:0.3,relu2:0.7 --content-layer "
      "relu1 "
      "--tv 0.01 --style style.png --style-blend 2,1";
  ASSERT_EQ(run(render(look, "first.png")).exitCode, 0);
  const std::string again = "--content content.png --style style.png --style style.png --preset first.png ";
  // The preset names a model file: it is used only when confirmed with --model.
  RunResult r = run(again + "--output second.png");
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("add --model " + (dir_ / "tiny.onnx").lexically_normal().string() +
                                  " after --preset"));
  r = run(again + "--model tiny.onnx --output second.png");
  ASSERT_EQ(r.exitCode, 0) << r.output;
  EXPECT_EQ(cv::norm(pixels(dir_ / "first.png"), pixels(dir_ / "second.png"), cv::NORM_INF), 0.0);
  // Every setting came from the PNG, pooling and blend included.
  const std::string settings = readPngText(dir_ / "second.png").at("impasto:settings");
  EXPECT_THAT(settings, HasSubstr("\"pooling\":\"avg\""));
  EXPECT_THAT(settings, HasSubstr("\"style_blend\":[2.0,1.0]"));
  EXPECT_THAT(settings, HasSubstr("\"seed\":9"));
  EXPECT_THAT(settings, HasSubstr("tiny.onnx"));  // the model file, by an absolute path

  // Without the preset the same images give another picture: the check can fail.
  ASSERT_EQ(run("--content content.png --style style.png --style style.png --model tiny.onnx --size 32 "
                "--iterations 3 --threads 1 --output plain.png")
                .exitCode,
            0);
  EXPECT_GT(cv::norm(pixels(dir_ / "first.png"), pixels(dir_ / "plain.png"), cv::NORM_INF), 0.0);
}

TEST_F(CliTest, FlagsAfterThePresetOverrideItAndFlagsBeforeItDoNot) {
  ASSERT_EQ(run(render("--beta 300")).exitCode, 0);
  std::ofstream(dir_ / "look.json") << R"({"beta": 77, "iterations": 2})";
  const std::string images =
      "--content content.png --style style.png --model tiny.onnx --size 32 --threads 1 ";
  ASSERT_EQ(run(images + "--preset look.json --beta 5 --output after.png").exitCode, 0);
  EXPECT_THAT(readPngText(dir_ / "after.png").at("impasto:settings"), HasSubstr("\"beta\":5.0"));
  ASSERT_EQ(run(images + "--beta 5 --preset look.json --output before.png").exitCode, 0);
  const std::string before = readPngText(dir_ / "before.png").at("impasto:settings");
  EXPECT_THAT(before, HasSubstr("\"beta\":77.0"));
  EXPECT_THAT(before, HasSubstr("\"iterations\":2"));
}

TEST_F(CliTest, ABadPresetIsAUsageErrorNamingTheFieldAndNothingIsWritten) {
  std::ofstream(dir_ / "bad.json") << R"({"optimizer": "sgd"})";
  RunResult r = run(render("--preset bad.json"));
  EXPECT_EQ(r.exitCode, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("bad.json: 'optimizer' must be lbfgs or adam"));
  r = run(render("--preset content.png"));  // a PNG we did not export
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("only PNGs exported by Impasto"));
  expectNoOutput(dir_);
}

// Files nested a million levels deep used to kill the process (SIGSEGV):
// now a model, its manifest or a preset like that is a message and an exit code.
TEST_F(CliTest, DeeplyNestedJsonFilesAreRefusedWithAMessage) {
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  fs::create_directories(dir_ / "deep");
  std::ofstream(dir_ / "deep" / "model.json") << R"({"modelTopology": )" << deep << "}";
  std::ofstream(dir_ / "tiny.json") << R"({"name": )" << deep << "}";  // the manifest beside tiny.onnx
  // A preset that deep would be over the 1 MiB a preset may have: 1000 levels.
  std::ofstream(dir_ / "preset.json")
      << R"({"size": )" << std::string(1000, '[') << std::string(1000, ']') << "}";
  const std::pair<std::string, int> cases[] = {
      {"--content content.png --style style.png --model deep/model.json --output out.png", 3},
      {"--content content.png --style style.png --model tiny.onnx --output out.png", 3},
      {render("--preset preset.json"), 2},
  };
  for (const auto& [args, code] : cases) {
    RunResult r = run(args);
    EXPECT_EQ(r.exitCode, code) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("nests deeper than 64 levels")) << args;
  }
  expectNoOutput(dir_);
}

TEST_F(CliTest, UsageErrorsExitWith2) {
  for (const std::string& args :
       {std::string("--content content.png"), std::string("--bogus"), render("--size abc"),
        render("--optimizer sgd"), render("--style-layers nope"), render("--output out.gif", "out.gif")}) {
    RunResult r = run(args);
    EXPECT_EQ(r.exitCode, 2) << args << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("impasto-cli: ")) << args;
  }
  expectNoOutput(dir_);
}

TEST_F(CliTest, MissingContentFile) {
  RunResult r = run("--content missing.jpg --style style.png --model tiny.onnx --output out.png");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_THAT(r.output, HasSubstr("missing.jpg"));
  expectNoOutput(dir_);
}

TEST_F(CliTest, TextFileNamedJpg) {
  std::ofstream(dir_ / "notes.jpg") << "this is not a picture\n";
  RunResult r = run("--content notes.jpg --style style.png --model tiny.onnx --output out.png");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_THAT(r.output, HasSubstr("notes.jpg"));
  EXPECT_THAT(r.output, HasSubstr("not an image"));
  expectNoOutput(dir_);
}

TEST_F(CliTest, TruncatedJpeg) {
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(64, 64, CV_8UC3, cv::Scalar(10, 200, 30)), jpeg);
  std::ofstream(dir_ / "cut.jpg", std::ios::binary)
      .write(reinterpret_cast<const char*>(jpeg.data()), jpeg.size() / 2);
  RunResult r = run("--content cut.jpg --style style.png --model tiny.onnx --output out.png");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_THAT(r.output, HasSubstr("cut.jpg"));
  EXPECT_THAT(r.output, HasSubstr("truncated"));
  expectNoOutput(dir_);
}

// A PNG signature and an IHDR that claims 30000x30000, then nothing.
void writeHugePngHeader(const fs::path& path) {
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(1, 1, CV_8UC3, cv::Scalar(0)), png);
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = uchar(v >> (24 - 8 * i));
  };
  put32(16, 30000);
  put32(20, 30000);
  // Fix the IHDR CRC so only the size is wrong, not the file.
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 12; i < 29; ++i) {
    crc ^= png[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  put32(29, crc ^ 0xFFFFFFFFu);
  png.resize(33);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(png.data()), png.size());
}

TEST_F(CliTest, HugePngRefusedFromItsHeader) {
  writeHugePngHeader(dir_ / "huge.png");
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run("--content huge.png --style style.png --model tiny.onnx --output out.png");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_THAT(r.output, HasSubstr("30000"));
  EXPECT_THAT(r.output, HasSubstr("100"));  // the limit, in megapixels
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  expectNoOutput(dir_);
}

TEST_F(CliTest, NonSequentialOnnxRefused) {
  at::manual_seed(3);
  test::OnnxWriter onnx;
  onnx.conv("conv1", "image", "a", at::randn({4, 3, 3, 3}), at::zeros({4}), 1, 1)
      .conv("conv2", "image", "b", at::randn({4, 3, 3, 3}), at::zeros({4}), 1, 1)
      .node("Add", "join", {"a", "b"}, {"sum"})
      .output("sum");
  onnx.save(dir_ / "branchy.onnx");
  RunResult r = run("--content content.png --style style.png --model branchy.onnx --output out.png");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_THAT(r.output, HasSubstr("sequential"));
  expectNoOutput(dir_);
}

// Pickles that re-use memoised objects to make a naive reader allocate tens
// of gigabytes. The CLI runs with its address space capped (the bombs would
// need 64 GB and more), so a regression fails here instead of the machine.
TEST_F(CliTest, PickleBombsAreRefusedWithExit3AndBoundedMemory) {
  const std::string empty = test::legacyStorageSection({});
  test::writeBytes(dir_ / "bomb.pth", test::legacyHeader() + test::orderedDictBomb(100000, 40000) + empty);
  test::writeBytes(dir_ / "key-bomb.pth",
                   test::legacyHeader() + test::memoisedKeyBomb(1 << 20, 200000) + empty);
#if defined(__SANITIZE_ADDRESS__)
  const std::string capped;  // ASan reserves terabytes of shadow space: no cap (it reports leaks instead)
#else
  const std::string capped = "ulimit -v " + std::to_string(4 << 20) + "; ";  // KiB: 4 GiB
#endif
  RunResult r =
      test::runShell(capped + "cd '" + dir_.string() + "' && '" + test::cliPath() +
                     "' --content content.png --style style.png --model bomb.pth --output out.png 2>&1");
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("bomb.pth"));
  EXPECT_THAT(r.output, HasSubstr("made to exhaust memory"));
  r = test::runShell(capped + "cd '" + dir_.string() + "' && '" + test::cliPath() +
                     "' --content content.png --style style.png --model key-bomb.pth --output out.png 2>&1");
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, ::testing::AllOf(HasSubstr("key-bomb.pth"), HasSubstr("is missing")));
  EXPECT_LT(r.output.size(), 2000u) << "the megabyte key is cut short in the message";
  expectNoOutput(dir_);
}

TEST_F(CliTest, UnknownModelNameOffersTheDownload) {
  RunResult r = run("--content content.png --style style.png --model vgg19 --output out.png");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_THAT(r.output, HasSubstr("impasto-cli models download vgg19"));
}

TEST_F(CliTest, UnwritableOutputDetectedBeforeWork) {
  // A directory that does not exist, and one "directory" that is a file: both
  // fail even for root, which ignores permission bits.
  std::ofstream(dir_ / "plain-file") << "x";
  for (const std::string& output : {std::string("no/such/dir/out.png"), std::string("plain-file/out.png")}) {
    const auto start = std::chrono::steady_clock::now();
    RunResult r = run(render("--iterations 1000000", output));
    EXPECT_EQ(r.exitCode, 3) << output << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr(fs::path(output).parent_path().string())) << output;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  }
  if (::geteuid() != 0) {
    fs::create_directory(dir_ / "locked");
    fs::permissions(dir_ / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    RunResult r = run(render("", "locked/out.png"));
    EXPECT_EQ(r.exitCode, 3) << r.output;
    fs::permissions(dir_ / "locked", fs::perms::owner_all);
  }
}

TEST_F(CliTest, OutputMustNotOverwriteAnInput) {
  const auto before = fs::file_size(dir_ / "content.png");
  RunResult r = run("--content content.png --style style.png --model tiny.onnx --output content.png");
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_EQ(fs::file_size(dir_ / "content.png"), before);
}

TEST_F(CliTest, InterruptSavesTheCurrentImageAndExits130) {
  const std::string command = "cd '" + dir_.string() + "' && exec '" + test::cliPath() + "' " +
                              render("--iterations 1000000 --json") + " > log.txt 2>&1";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait until it is optimising, then press Ctrl-C.
  for (int i = 0; i < 600; ++i) {
    std::ifstream log(dir_ / "log.txt");
    std::string text((std::istreambuf_iterator<char>(log)), {});
    if (text.find("\"iteration\":2") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(child, SIGINT);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  cv::Mat out = cv::imread((dir_ / "out.png").string());
  EXPECT_EQ(out.cols, 32);
  std::ifstream log(dir_ / "log.txt");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_THAT(text, HasSubstr("\"cancelled\":true"));
}

// A render killed with SIGKILL resumes from its last checkpoint and ends with
// the pixels an uninterrupted render gives; the finished render's checkpoint
// is removed.
TEST_F(CliTest, ARenderKilledMidwayResumesFromItsCheckpoint) {
  const std::string job = render("--iterations 600 --scales 2 --size 40", "reference.png");
  ASSERT_EQ(run(job).exitCode, 0);

  const std::string command = "cd '" + dir_.string() + "' && exec '" + test::cliPath() + "' " +
                              render(
                                  "--iterations 600 --scales 2 --size 40 --json --checkpoint ck.bin "
                                  "--checkpoint-every 100") +
                              " > log.txt 2>&1";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  bool checkpointed = false;
  for (int i = 0; i < 600 && !checkpointed; ++i) {
    std::ifstream log(dir_ / "log.txt");
    const std::string text((std::istreambuf_iterator<char>(log)), {});
    checkpointed = text.find("\"checkpoint\"") != std::string::npos;
    if (!checkpointed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(checkpointed);
  ASSERT_TRUE(fs::exists(dir_ / "ck.bin"));

  const RunResult resumed = run("--resume ck.bin --json");
  ASSERT_EQ(resumed.exitCode, 0) << resumed.output;
  EXPECT_EQ(cv::norm(pixels(dir_ / "reference.png"), pixels(dir_ / "out.png"), cv::NORM_INF), 0.0);
  EXPECT_FALSE(fs::exists(dir_ / "ck.bin"));
}

TEST_F(CliTest, ACheckpointOfOtherInputsOrDamagedIsRefused) {
  // In the background, its own pid echoed ($! of a simple command is the command).
  const std::string command = "cd '" + dir_.string() + "' && ('" + test::cliPath() + "' " +
                              render("--iterations 1000000 --json --checkpoint ck.bin --checkpoint-every 5") +
                              " > log.txt 2>&1 & echo $!)";
  const RunResult started = test::runShell(command);
  const pid_t child = pid_t(std::stol(started.output));
  for (int i = 0; i < 600 && !fs::exists(dir_ / "ck.bin"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(child, SIGKILL);
  ASSERT_TRUE(fs::exists(dir_ / "ck.bin"));
  const std::string good = test::readAll(dir_ / "ck.bin");

  writeImage("content.png", 40, 30, 1);  // the photo changed since
  RunResult r = run("--resume ck.bin");
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the content image differs"));
  writeImage("content.png", 40, 30, 0);
  r = run("--resume ck.bin --beta 5");  // other settings
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("the settings differ"));

  std::string damaged = good;
  damaged[damaged.size() / 2] = char(damaged[damaged.size() / 2] ^ 1);
  test::writeAll(dir_ / "ck.bin", damaged);
  r = run("--resume ck.bin");
  EXPECT_EQ(r.exitCode, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("damaged"));
  EXPECT_THAT(r.output, HasSubstr("without --resume")) << "the CLI says what to do";
  EXPECT_FALSE(fs::exists(dir_ / "out.png"));
}

}  // namespace
}  // namespace impasto
