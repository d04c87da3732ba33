#!/usr/bin/env python3
"""Compares the decisions of two mailtriage builds (each with its own model file) on the same mail.

Usage: compare_decisions.py BIN_A MODEL_A BIN_B MODEL_B MAILS.jsonl [-- classify options]
  Each binary decides every mail with `classify --jsonl MAILS --json --model MODEL` (the mails: JSONL with
  id, subject, body or text). Printed: how many decisions differ in degree, category, language or answer
  entry (and which way the automatic ones went), and the largest absolute difference of the category
  confidence and of the answer model's probability for its best entry (as `classify --jsonl` prints them:
  rounded to 1e-4).
"""
import json
import subprocess
import sys
import tempfile


def decide(binary, model, mails, extra):
    res = subprocess.run([binary, "classify", "--jsonl", mails, "--json", "--model", model] + extra,
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"{binary}: classify failed: {res.stderr}")
    out = {}
    for line in res.stdout.splitlines():
        if line.strip():
            d = json.loads(line)
            out[d["id"]] = d
    return out


def main():
    args = sys.argv[1:]
    extra = args[args.index("--") + 1:] if "--" in args else []
    args = args[:args.index("--")] if "--" in args else args
    bin_a, model_a, bin_b, model_b, mails = args
    # Ids for mails without one (classify needs them to pair the outputs).
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for k, line in enumerate(open(mails, encoding="utf-8")):
            if line.strip():
                r = json.loads(line)
                f.write(json.dumps({"id": str(r.get("id", k)), "subject": r.get("subject", ""),
                                    "body": r.get("body", r.get("text", ""))}, ensure_ascii=False) + "\n")
        path = f.name
    a = decide(bin_a, model_a, path, extra)
    b = decide(bin_b, model_b, path, extra)
    keys = sorted(set(a) & set(b))
    diff = {"degree": 0, "category": 0, "language": 0, "answer": 0, "bestEntry": 0}
    to_auto, from_auto = [], []
    max_score = max_answer = 0.0
    for k in keys:
        x, y = a[k], b[k]
        for field in diff:
            if x.get(field) != y.get(field):
                diff[field] += 1
        if x.get("degree") != "automatic" and y.get("degree") == "automatic":
            to_auto.append(k)
        if x.get("degree") == "automatic" and y.get("degree") != "automatic":
            from_auto.append(k)
        if x.get("confidence") is not None and y.get("confidence") is not None:
            max_score = max(max_score, abs(x["confidence"] - y["confidence"]))
        if x.get("bestEntry") == y.get("bestEntry") and x.get("entryProbability") is not None \
                and y.get("entryProbability") is not None:
            max_answer = max(max_answer, abs(x["entryProbability"] - y["entryProbability"]))
    print(f"{len(keys)} mails; different: " + ", ".join(f"{v} {k}" for k, v in diff.items()))
    print(f"automatic in B only: {len(to_auto)} {to_auto[:10]}; automatic in A only: {len(from_auto)} {from_auto[:10]}")
    print(f"max abs difference: category confidence {max_score:.4f}, best entry's probability {max_answer:.4f}")


if __name__ == "__main__":
    main()
