#!/usr/bin/python3
"""Generates the checkpoint-reader fixtures from PyTorch.

Run once with Debian's interpreter and python3-torch:

    /usr/bin/python3 scripts/reference/make_checkpoint_fixtures.py

Writes Tests/EngineTests/Fixtures/checkpoints/: the same small state dict saved by
torch.save in the zip format (state.pth) and the legacy format (state_legacy.pth), as
safetensors (state.safetensors, written by hand from the format description since the
safetensors package is not on Debian), the expected values (expected.json), and hostile
files: pickles calling posix.system (evil.pth legacy, evil_zip.pth zip) and a legacy file
claiming a 2^40-element storage (huge_storage_legacy.pth). The state dict covers what readers get
wrong: a transposed (non-contiguous) tensor, a view at a storage offset, half, double and
int64 tensors, a Parameter, and a module's OrderedDict with _metadata.
"""
import json
import os
import struct
from collections import OrderedDict

import torch

torch.manual_seed(7)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "EngineTests", "Fixtures", "checkpoints")


def state_dict():
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    state = module.state_dict()  # OrderedDict with _metadata, num_batches_tracked (int64)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state["transposed"] = base.t()  # strides (1, 6)
    state["view_at_offset"] = base.view(-1)[5:17].view(3, 4)  # storage offset 5
    state["half"] = torch.tensor([0.5, -2.0, 65504.0, 6e-8], dtype=torch.float16)
    state["double"] = torch.tensor([[1.25, -3.5]], dtype=torch.float64)
    state["parameter"] = torch.nn.Parameter(torch.randn(2, 3))
    state["scalar"] = torch.tensor(3.0)
    return state


def expected(state):
    return {name: {"shape": list(t.shape), "values": [float(v) for v in t.detach().double().flatten()]}
            for name, t in state.items()}


def write_safetensors(state, path):
    header, blobs, offset = {}, [], 0
    for name, tensor in state.items():
        data = tensor.detach().float().contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def with_huge_storage_count(legacy_path, out_path):
    """The legacy file with its first storage's element count (the Int64 after the key-list
    pickle) replaced by 2^40: a reader that trusts it would allocate 4 TiB."""
    import pickle

    class Loader(pickle.Unpickler):
        def persistent_load(self, pid):
            return None

        def find_class(self, module, name):
            if module == "collections":
                return super().find_class(module, name)
            return lambda *args, **kwargs: None

    with open(legacy_path, "rb") as f:
        for _ in range(5):  # magic, protocol, system info, state dict, storage keys
            Loader(f).load()
        position = f.tell()
        data = bytearray(open(legacy_path, "rb").read())
    data[position:position + 8] = struct.pack("<Q", 1 << 40)
    with open(out_path, "wb") as f:
        f.write(data)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/podium-pwned",))


def main():
    os.makedirs(OUT, exist_ok=True)
    state = state_dict()
    torch.save(state, os.path.join(OUT, "state.pth"))
    torch.save(state, os.path.join(OUT, "state_legacy.pth"), _use_new_zipfile_serialization=False)
    write_safetensors(state, os.path.join(OUT, "state.safetensors"))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected(state), f)
    torch.save({"weight": torch.zeros(2), "payload": Evil()}, os.path.join(OUT, "evil.pth"),
               _use_new_zipfile_serialization=False)
    torch.save({"weight": torch.zeros(2), "payload": Evil()}, os.path.join(OUT, "evil_zip.pth"))
    with_huge_storage_count(os.path.join(OUT, "state_legacy.pth"), os.path.join(OUT, "huge_storage_legacy.pth"))
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
