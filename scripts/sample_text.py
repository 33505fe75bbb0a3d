#!/usr/bin/env python3
"""Writes MB megabytes of sample text to stdout: sentences of words drawn from a Zipf-like
distribution over a small multilingual vocabulary. Deterministic (fixed seed).
Usage: sample_text.py MB"""
import random
import sys

WORDS = ("the of and to a in that it is was he for on are as with his they at be this from "
         "have or by one had not but what all were when we there can an your which their said "
         "if do will each about how up out them then she many some so these would other into "
         "has more her two like him see time could no make than first been its who now people "
         "café naïve façade Ελλάδα λόγος москва слово 東京 言葉 서울 말").split()


def main():
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 4
    rng = random.Random(42)
    weights = [1.0 / (rank + 1) for rank in range(len(WORDS))]
    target = int(megabytes * 1024 * 1024)
    out = sys.stdout
    written = 0
    while written < target:
        n = rng.randint(4, 16)
        line = " ".join(rng.choices(WORDS, weights, k=n)).capitalize() + ".\n"
        out.write(line)
        written += len(line.encode())


if __name__ == "__main__":
    main()
