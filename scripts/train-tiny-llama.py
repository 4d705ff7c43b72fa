"""Trains a tiny standard Llama on text every Debian machine has, for the speed-and-quality demo:
what ladder, hybrid-ladder, parallel and desync cost in next-token NLL when they run a checkpoint
trained as a standard transformer (the paper: a converted model needs retraining). By hand, not CI
(torch is GBs):

  python3 -m venv /tmp/torch-venv && /tmp/torch-venv/bin/pip install torch==2.15.0 transformers==5.24.0 numpy
  /tmp/torch-venv/bin/python scripts/train-tiny-llama.py /tmp/tiny-trained

Byte-level tokens (vocabulary 256), trained on the GPL-3 and GFDL-1.3 texts in
/usr/share/common-licenses; writes the checkpoint (transformers' save_pretrained, fp32) and
eval_tokens.npy, the bytes of the held-out Apache-2.0 text, for `ladder-bench --eval-tokens`.
"""
import argparse
import pathlib

import numpy as np
import torch
import transformers

LICENSES = pathlib.Path("/usr/share/common-licenses")
TRAIN, HELD_OUT = ("GPL-3", "GFDL-1.3"), "Apache-2.0"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = torch.tensor(np.frombuffer(b"".join((LICENSES / f).read_bytes() for f in TRAIN), dtype=np.uint8).astype(np.int64))
    config = transformers.LlamaConfig(hidden_size=128, intermediate_size=352, num_hidden_layers=4,
                                      num_attention_heads=4, num_key_value_heads=4, vocab_size=256,
                                      max_position_embeddings=256, rms_norm_eps=1e-5, tie_word_embeddings=False)
    model = transformers.LlamaForCausalLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=a.steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(1)
    for step in range(a.steps):
        starts = torch.randint(0, len(data) - a.seq, (a.batch,), generator=gen)
        ids = torch.stack([data[s:s + a.seq] for s in starts.tolist()])
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == a.steps - 1:
            print(f"step {step}: train loss {loss.item():.4f}", flush=True)
    out = pathlib.Path(a.outdir)
    model.save_pretrained(out)
    held = np.frombuffer((LICENSES / HELD_OUT).read_bytes(), dtype=np.uint8).astype(np.int64)
    np.save(out / "eval_tokens.npy", held)
    model.eval()
    with torch.no_grad():
        n = len(held) // a.seq * a.seq
        ids = torch.tensor(held[:n].reshape(-1, a.seq))
        print(f"held-out {HELD_OUT}: transformers' loss {model(input_ids=ids, labels=ids).loss.item():.6f} "
              f"over {len(ids)} windows of {a.seq}")


if __name__ == "__main__":
    main()
