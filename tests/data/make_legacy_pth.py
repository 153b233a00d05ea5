#!/usr/bin/env python3
"""Writes legacy_state_dict.pth: a tiny state_dict in the layout torch.save used
before PyTorch 1.6 (torch.save(sd, f, _use_new_zipfile_serialization=False)).

PyTorch is not needed: CPython's own pickler writes the opcodes, exactly as
torch.serialization._legacy_save drives it (protocol 2, storages as persistent
ids, sorted storage keys, raw little-endian data after the pickles). Stand-in
modules named torch and torch._utils give the pickled globals their real names.

The values follow simple formulas that tests/core/legacy_pickle_test.cpp
recomputes:
  storage "1000" (float32, 112 elements): value k -> (k - 50) / 8
    features.0.weight  offset 0,   size (4, 3, 3, 3), contiguous
    features.0.bias    offset 108, size (4,)           (shares the storage)
  storage "1001" (float32, 6 elements): value k -> k + 0.25
    features.2.weight  offset 0, size (3, 2), stride (1, 3)  (a transposed view)
  storage "1002" (float64, 3 elements): value k -> -k / 4
    features.2.bias    offset 1, size (2,)
  storage "1003" (int64, 1 element): 7
    bn.num_batches_tracked  size ()
Run: python3 tests/data/make_legacy_pth.py tests/data/legacy_state_dict.pth
"""
import collections
import pickle
import struct
import sys
import types

MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
PROTOCOL_VERSION = 1001


def stand_in_module(name):
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module


torch = stand_in_module("torch")
torch_utils = stand_in_module("torch._utils")


def define_in(module, obj, name):
    obj.__module__ = module.__name__
    obj.__qualname__ = name
    obj.__name__ = name
    setattr(module, name, obj)
    return obj


def _rebuild_tensor_v2(*args):
    raise RuntimeError("only pickled, never called")


define_in(torch_utils, _rebuild_tensor_v2, "_rebuild_tensor_v2")


class Storage:
    def __init__(self, key, fmt, values):
        self.key, self.fmt, self.values = key, fmt, values


FloatStorage = define_in(torch, type("FloatStorage", (), {}), "FloatStorage")
DoubleStorage = define_in(torch, type("DoubleStorage", (), {}), "DoubleStorage")
LongStorage = define_in(torch, type("LongStorage", (), {}), "LongStorage")
STORAGE_CLASS = {"f": FloatStorage, "d": DoubleStorage, "q": LongStorage}


class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def main(path):
    s0 = Storage("1000", "f", [(k - 50) / 8 for k in range(112)])
    s1 = Storage("1001", "f", [k + 0.25 for k in range(6)])
    s2 = Storage("1002", "d", [-k / 4 for k in range(3)])
    s3 = Storage("1003", "q", [7])

    state = collections.OrderedDict()
    state["features.0.weight"] = Tensor(s0, 0, (4, 3, 3, 3), (27, 9, 3, 1))
    state["features.0.bias"] = Tensor(s0, 108, (4,), (1,))
    state["features.2.weight"] = Tensor(s1, 0, (3, 2), (1, 3))
    state["features.2.bias"] = Tensor(s2, 1, (2,), (1,))
    state["bn.num_batches_tracked"] = Tensor(s3, 0, (), ())
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("features", {"version": 1})])

    serialized = {}

    def persistent_id(obj):
        if isinstance(obj, Storage):
            serialized[obj.key] = obj
            return ("storage", STORAGE_CLASS[obj.fmt], obj.key, "cpu", len(obj.values), None)
        return None

    sys_info = dict(protocol_version=PROTOCOL_VERSION, little_endian=True,
                    type_sizes=dict(short=2, int=4, long=4))
    with open(path, "wb") as f:
        pickle.dump(MAGIC_NUMBER, f, protocol=2)
        pickle.dump(PROTOCOL_VERSION, f, protocol=2)
        pickle.dump(sys_info, f, protocol=2)
        pickler = pickle.Pickler(f, protocol=2)
        pickler.persistent_id = persistent_id
        pickler.dump(state)
        keys = sorted(serialized.keys())
        pickle.dump(keys, f, protocol=2)
        for key in keys:
            storage = serialized[key]
            f.write(struct.pack("<q", len(storage.values)))
            f.write(struct.pack("<%d%s" % (len(storage.values), storage.fmt), *storage.values))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "legacy_state_dict.pth")
