"""Which language detector reads a short complaint best (issue 17): lingua, py3langid or langdetect.

Each candidate runs in a fresh interpreter on the labelled complaints (tests/cases/data/tone_labelled.jsonl,
256 rows in en/de/fr/es, quoted history cut with the tone module's ``own_words`` as the daemon does), over
all the languages it knows (a customer may write in Italian), and reports: accuracy on the whole text and on
its first 3 and 5 words, how often its confidence clears the threshold and how right it is then, import
time, the first call (models load lazily), the median time per message and the peak memory. Sizes are
those of the wheels in ``--wheels`` and of the folders they install to in ``--installed``::

    pip download --no-deps lingua-language-detector py3langid langdetect numpy six -d /tmp/wheels
    for w in /tmp/wheels/*; do pip install --no-deps --target /tmp/inst/$(basename $w | cut -d- -f1) $w; done
    python bench/language_detectors.py --wheels /tmp/wheels --installed /tmp/inst

fasttext-langdetect is left out: its package does not hold the model, which it downloads on first use,
and the daemon must work offline.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "cases" / "data" / "tone_labelled.jsonl"
CANDIDATES = {  # name: (install folders its import needs, wheel name prefixes)
    "lingua": (["lingua_language_detector"], ["lingua_language_detector"]),
    "lingua-low": (["lingua_language_detector"], ["lingua_language_detector"]),
    "py3langid": (["py3langid", "numpy"], ["py3langid", "numpy"]),
    "langdetect": (["langdetect", "six"], ["langdetect", "six"]),
}
THRESHOLD = {"lingua": 0.5, "lingua-low": 0.5, "py3langid": 0.9, "langdetect": 0.9}

# Runs in the child: one detector, timed from a cold interpreter.
CHILD = r'''
import json, resource, statistics, sys, time
name, threshold = sys.argv[1], float(sys.argv[2])
rows = json.loads(sys.stdin.read())
t0 = time.perf_counter()
if name.startswith("lingua"):
    from lingua import LanguageDetectorBuilder
    b = LanguageDetectorBuilder.from_all_languages()
    d = (b.with_low_accuracy_mode() if name == "lingua-low" else b).build()
    def top(text):
        c = d.compute_language_confidence_values(text)
        return (c[0].language.iso_code_639_1.name.lower(), c[0].value) if c else (None, 0.0)
elif name == "py3langid":
    import py3langid
    from py3langid.langid import LanguageIdentifier, MODEL_FILE
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    def top(text):
        lang, p = ident.classify(text)
        return lang, float(p)
else:
    from langdetect import DetectorFactory, detect_langs
    DetectorFactory.seed = 0
    def top(text):
        try:
            best = detect_langs(text)[0]
        except Exception:
            return None, 0.0
        return best.lang.split("-")[0], best.prob
imported = time.perf_counter() - t0
t0 = time.perf_counter(); top("Hello, my kettle arrived broken."); first = time.perf_counter() - t0
times, right, sure, sure_right, words3, words5 = [], 0, 0, 0, 0, 0
wrong = []
for r in rows:
    t0 = time.perf_counter(); lang, p = top(r["text"]); times.append(time.perf_counter() - t0)
    right += lang == r["language"]
    if p >= threshold:
        sure += 1; sure_right += lang == r["language"]
    if lang != r["language"]:
        wrong.append(f'{r["id"]}: {lang} {p:.2f}')
    words = r["text"].split()
    words3 += top(" ".join(words[:3]))[0] == r["language"]
    words5 += top(" ".join(words[:5]))[0] == r["language"]
short = {t: top(t) for t in ("ok", "thx", "Danke!", "merci", "Gracias", "Any news?")}
print(json.dumps({"import_s": imported, "first_call_s": first, "median_ms": statistics.median(times) * 1000,
                  "p95_ms": sorted(times)[int(len(times) * 0.95)] * 1000,
                  "accuracy": right / len(rows), "first3": words3 / len(rows), "first5": words5 / len(rows),
                  "sure": sure / len(rows), "sure_accuracy": sure_right / max(sure, 1), "wrong": wrong,
                  "short": {k: [v[0], round(v[1], 2)] for k, v in short.items()},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
'''


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheels", type=Path, default=Path("/tmp/wheels"))
    ap.add_argument("--installed", type=Path, default=Path("/tmp/inst"))
    ap.add_argument("--only", default="", help="comma-separated candidates")
    args = ap.parse_args()
    from aftercare.cases.tone import own_words
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    rows = [{**r, "text": own_words(r["text"])} for r in rows]
    out = {}
    for name, (folders, wheels) in CANDIDATES.items():
        if args.only and name not in args.only.split(","):
            continue
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(args.installed / f) for f in folders)}
        run = subprocess.run([sys.executable, "-c", CHILD, name, str(THRESHOLD[name])], input=json.dumps(rows),
                             capture_output=True, text=True, env=env, check=True)
        result = json.loads(run.stdout)
        result["wheel_mb"] = sum(size_mb(w) for prefix in wheels for w in args.wheels.glob(f"{prefix}-*"))
        result["installed_mb"] = sum(size_mb(args.installed / f) for f in folders)
        out[name] = result
    print(f"{len(rows)} complaints, quoted history cut\n")
    print(f"{'detector':<11}{'acc':>6}{'3 words':>8}{'5 words':>8}{'sure':>6}{'acc sure':>9}{'wheel MB':>9}"
          f"{'inst MB':>8}{'import s':>9}{'1st s':>7}{'ms/msg':>7}{'RSS MB':>7}")
    for name, r in out.items():
        print(f"{name:<11}{r['accuracy']:>6.3f}{r['first3']:>8.3f}{r['first5']:>8.3f}{r['sure']:>6.2f}"
              f"{r['sure_accuracy']:>9.3f}{r['wheel_mb']:>9.1f}{r['installed_mb']:>8.1f}{r['import_s']:>9.2f}"
              f"{r['first_call_s']:>7.2f}{r['median_ms']:>7.2f}{r['peak_rss_mb']:>7.0f}")
    for name, r in out.items():
        print(f"\n{name}: wrong {r['wrong']}\n  short {r['short']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
