#!/usr/bin/python3
"""Writes the generated part of the fuzz seed corpora into tests/fuzz/corpus/.

Run from the repository root with Debian's python3 (numpy and Pillow, no
PyTorch): /usr/bin/python3 tests/fuzz/make_seeds.py [path/to/shared]
Seeds are small real files: images cut from ../shared/images, the first block
of ../shared/models/darknet-reference (TF.js and .pth forms), the repository's
manifests and legacy .pth, and tiny state_dicts pickled the way torch.save does
(by CPython's pickler with stand-in torch modules, as tests/data/make_legacy_pth.py).
Exported PNGs with embedded settings come from impasto-cli itself (see README).
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared")


def write(harness, name, data):
    folder = os.path.join(CORPUS, harness)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------ images

def image_seeds():
    photo = Image.open(os.path.join(SHARED, "images", "tubingen.jpg")).convert("RGB")
    small = photo.resize((24, 16), Image.LANCZOS)
    face = Image.open(os.path.join(SHARED, "images", "faces", "amy1.png"))
    face_small = face.resize((12, 12), Image.LANCZOS)

    def save(name, image, fmt, **options):
        buf = io.BytesIO()
        image.save(buf, fmt, **options)
        write("fuzz_image", name, buf.getvalue())

    save("rgb.png", small, "PNG")
    save("grey.png", small.convert("L"), "PNG")
    rgba = small.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(small.size))
    save("rgba.png", rgba, "PNG")
    save("grey_alpha.png", small.convert("LA"), "PNG")
    save("palette.png", small.convert("P", palette=Image.ADAPTIVE, colors=8), "PNG")
    grey16 = Image.fromarray((np.asarray(small.convert("L"), dtype=np.uint16) * 257).astype(np.uint16))
    save("grey16.png", grey16, "PNG")
    save("face.png", face_small, "PNG")
    exif = Image.Exif()
    exif[274] = 6  # orientation: rotate 90 degrees clockwise to display
    save("rotated.jpg", small, "JPEG", quality=60, exif=exif.tobytes())
    save("grey.jpg", small.convert("L"), "JPEG", quality=60)
    save("progressive.jpg", small, "JPEG", quality=60, progressive=True)
    save("rgb.tif", small, "TIFF")
    save("rgb_lzw.tif", small, "TIFF", compression="tiff_lzw")
    save("rotated.tif", small, "TIFF", tiffinfo={274: 8})
    save("float.tif", Image.fromarray(np.asarray(small.convert("L"), dtype=np.float32) / 255.0), "TIFF")
    save("rgb.bmp", small, "BMP")
    save("rgb.webp", small, "WEBP", quality=50)
    save("lossless.webp", small, "WEBP", lossless=True)


# ------------------------------------------------------------------ TF.js

def tfjs_seeds():
    darknet = os.path.join(SHARED, "models", "darknet-reference", "tfjs")
    with open(os.path.join(darknet, "model.json"), "rb") as f:
        real = f.read()
    # The real model.json without its shards: the reader stops at the first
    # convolution whose weights are not on disk.
    write("fuzz_tfjs", "darknet_no_shards", real)

    # Its first block (conv, batch norm, leaky ReLU, pooling) with the real
    # weights in one shard; the second convolution's shard is absent.
    model = json.loads(real)
    layers = model["modelTopology"]["model_config"]["config"]["layers"]
    model["modelTopology"]["model_config"]["config"]["layers"] = layers[:7]
    manifest = {g["weights"][0]["name"].split("/")[0]: g for g in model["weightsManifest"]}
    first = [manifest["conv2d_1"], manifest["batch_normalization_1"]]
    shard = b"".join(open(os.path.join(darknet, g["paths"][0]), "rb").read() for g in first)
    model["weightsManifest"] = [
        {"paths": ["shard.bin"], "weights": first[0]["weights"] + first[1]["weights"]},
        {"paths": ["group9-shard1of1"], "weights": manifest["conv2d_2"]["weights"]},
        {"paths": ["group2-shard1of1"], "weights": manifest["batch_normalization_2"]["weights"]},
    ]
    write("fuzz_tfjs", "darknet_block1", json.dumps(model).encode() + b"\0" + shard)

    # A tiny Keras Sequential model (config is the layer list) with biases, a
    # fused ReLU, 'same' pooling, a ReLU layer and a scope prefix on weights.
    rng = np.random.default_rng(1)
    kernel1 = rng.standard_normal((3, 3, 3, 4)).astype("<f4")
    bias1 = rng.standard_normal(4).astype("<f4")
    kernel2 = rng.standard_normal((1, 1, 4, 2)).astype("<f4")
    sequential = {
        "modelTopology": {"class_name": "Sequential", "config": [
            {"class_name": "Conv2D", "config": {"name": "c1", "kernel_size": [3, 3], "strides": [1, 1],
                                                "padding": "same", "activation": "relu", "use_bias": True}},
            {"class_name": "AveragePooling2D", "config": {"name": "p1", "pool_size": [2, 2], "padding": "same"}},
            {"class_name": "Conv2D", "config": {"name": "c2", "kernel_size": 1, "strides": 1,
                                                "padding": "valid", "use_bias": False}},
            {"class_name": "ReLU", "config": {"name": "r2", "negative_slope": 0.1}},
            {"class_name": "Dense", "config": {"name": "d"}},
        ]},
        "weightsManifest": [{"paths": ["shard.bin"], "weights": [
            {"name": "net/c1/kernel", "shape": [3, 3, 3, 4], "dtype": "float32"},
            {"name": "net/c1/bias", "shape": [4], "dtype": "float32"},
            {"name": "net/c2/kernel", "shape": [1, 1, 4, 2], "dtype": "float32"},
        ]}],
    }
    weights = kernel1.tobytes() + bias1.tobytes() + kernel2.tobytes()
    write("fuzz_tfjs", "sequential", json.dumps(sequential).encode() + b"\0" + weights)


# ------------------------------------------------------------------ PyTorch

def stand_in_module(name):
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module


torch = stand_in_module("torch")
torch_utils = stand_in_module("torch._utils")


def define_in(module, obj, name):
    obj.__module__, obj.__qualname__, obj.__name__ = module.__name__, name, name
    setattr(module, name, obj)
    return obj


def _rebuild_tensor_v2(*args):
    raise RuntimeError("only pickled, never called")


define_in(torch_utils, _rebuild_tensor_v2, "_rebuild_tensor_v2")
STORAGE_CLASS = {"f": define_in(torch, type("FloatStorage", (), {}), "FloatStorage"),
                 "e": define_in(torch, type("HalfStorage", (), {}), "HalfStorage"),
                 "q": define_in(torch, type("LongStorage", (), {}), "LongStorage")}


class Storage:
    def __init__(self, key, fmt, values):
        self.key, self.fmt, self.values = key, fmt, values

    def data(self):
        return struct.pack("<%d%s" % (len(self.values), self.fmt), *self.values)


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def tiny_conv_net():
    """A two-conv net's state_dict: conv1 3->4 (3x3), conv2 4->2 (1x1, half
    precision), a batch-norm counter; conv1's bias shares its weight's storage."""
    s0 = Storage("0", "f", [(k - 50) / 16 for k in range(112)])
    s1 = Storage("1", "e", [k / 8 - 0.5 for k in range(10)])
    s2 = Storage("2", "q", [3])
    state = collections.OrderedDict()
    state["conv1.weight"] = Tensor(s0, 0, (4, 3, 3, 3), (27, 9, 3, 1))
    state["conv1.bias"] = Tensor(s0, 108, (4,), (1,))
    state["conv2.weight"] = Tensor(s1, 0, (2, 4, 1, 1), (4, 1, 1, 1))
    state["conv2.bias"] = Tensor(s1, 8, (2,), (1,))
    state["bn.num_batches_tracked"] = Tensor(s2, 0, (), ())
    state._metadata = collections.OrderedDict([("", {"version": 1})])
    return state


def pickle_state(state, legacy, wrap=None):
    serialized = {}

    def persistent_id(obj):
        if isinstance(obj, Storage):
            serialized[obj.key] = obj
            pid = ("storage", STORAGE_CLASS[obj.fmt], obj.key, "cpu", len(obj.values))
            return pid + (None,) if legacy else pid
        return None

    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=2)
    pickler.persistent_id = persistent_id
    pickler.dump(wrap(state) if wrap else state)
    return buf.getvalue(), serialized


def zip_pth(folder, pkl, storages):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(folder + "/data.pkl", pkl)
        for key in sorted(storages):
            z.writestr(folder + "/data/" + key, storages[key].data())
        z.writestr(folder + "/version", b"3\n")
    return buf.getvalue()


def legacy_pth(pkl, storages):
    out = io.BytesIO()
    pickle.dump(0x1950a86a20f9469cfc6c, out, protocol=2)
    pickle.dump(1001, out, protocol=2)
    pickle.dump(dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=4)),
                out, protocol=2)
    out.write(pkl)
    keys = sorted(storages)
    pickle.dump(keys, out, protocol=2)
    for key in keys:
        out.write(struct.pack("<q", len(storages[key].values)))
        out.write(storages[key].data())
    return out.getvalue()


def state_dict_seeds():
    pkl, storages = pickle_state(tiny_conv_net(), legacy=False)
    write("fuzz_state_dict", "tiny.pth", zip_pth("tiny", pkl, storages))
    write("fuzz_state_dict", "tiny_data.pkl", pkl)
    checkpoint = lambda s: {"epoch": 3, "state_dict": s}
    pkl, storages = pickle_state(tiny_conv_net(), legacy=False, wrap=checkpoint)
    write("fuzz_state_dict", "checkpoint.pth", zip_pth("checkpoint", pkl, storages))
    pkl, storages = pickle_state(tiny_conv_net(), legacy=True)
    write("fuzz_state_dict", "tiny_legacy.pth", legacy_pth(pkl, storages))
    with open(os.path.join(ROOT, "tests", "data", "legacy_state_dict.pth"), "rb") as f:
        write("fuzz_state_dict", "legacy_state_dict.pth", f.read())

    # The real darknet-reference .pth (written by torch.save) cut to its first
    # convolution: its own data.pkl, conv1's storages, the rest absent.
    real = zipfile.ZipFile(os.path.join(SHARED, "models", "darknet-reference", "darknet-reference-conv5.pth"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for info in real.infolist():
            if info.file_size <= 2048:
                z.writestr(info, real.read(info))
    write("fuzz_state_dict", "darknet_conv1.pth", buf.getvalue())
    pkl_name = next(n for n in real.namelist() if n.endswith("/data.pkl"))
    write("fuzz_state_dict", "darknet_data.pkl", real.read(pkl_name))


# ------------------------------------------------------------------ manifests and presets

def manifest_seeds():
    folder = os.path.join(ROOT, "resources", "models")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            write("fuzz_manifest", name, f.read())
    with open(os.path.join(SHARED, "models", "darknet-reference", "darknet-reference-conv5.json"), "rb") as f:
        write("fuzz_manifest", "darknet-reference-conv5.json", f.read())


def preset_seeds():
    folder = os.path.join(ROOT, "resources", "presets")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            write("fuzz_preset", name, f.read())


if __name__ == "__main__":
    preset_seeds()
    image_seeds()
    tfjs_seeds()
    state_dict_seeds()
    manifest_seeds()
