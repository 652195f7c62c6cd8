"""The default model's training pipeline in its smoke configuration: corpus and task data from
the installed Debian documentation, a BPE tokenizer that agentd's loader reads identically, a
few training steps of the DeepSeek-V3-layout MoE with MTP, export, and agentd's engine agreeing
with the training forward pass on the exported checkpoint; the same for the embedding model
(contrastive training, export in the sentence-transformers layout, engine embeddings = trainer's)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.environ["AGENTD_SOURCE_DIR"]
BIN = os.environ["AGENTD_BIN_DIR"]
TRAIN = os.path.join(ROOT, "engine", "train")
sys.path.insert(0, TRAIN)


def run(*args):
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError("%s failed:\n%s\n%s" % (args[0], done.stdout, done.stderr))
    return done.stdout


class TrainSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="agentd-train-")
        cls.corpus = os.path.join(cls.dir, "corpus")
        cls.tokenizer = os.path.join(cls.dir, "tokenizer")
        cls.model = os.path.join(cls.dir, "model")
        run(os.path.join(TRAIN, "build_corpus.py"), "--out", cls.corpus, "--max-man-pages", "15", "--variants", "1")
        run(os.path.join(TRAIN, "bpe.py"), "--corpus", cls.corpus, "--vocab-size", "3000", "--max-chars", "400000",
            "--out", cls.tokenizer)
        cls.train_output = run(os.path.join(TRAIN, "train.py"), "--preset", "smoke", "--corpus", cls.corpus,
                               "--tokenizer", cls.tokenizer, "--out", cls.model, "--max-docs", "30", "--steps", "20",
                               "--threads", "2")

        cls.embedder = os.path.join(cls.dir, "embedder")
        cls.embedder_output = run(os.path.join(TRAIN, "train_embedder.py"), "--preset", "smoke", "--corpus", cls.corpus,
                                  "--tokenizer", cls.tokenizer, "--out", cls.embedder, "--steps", "20",
                                  "--max-other-chars", "200000", "--threads", "2", "--no-eval")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_corpus_has_both_languages_and_every_task(self):
        sources = [json.loads(line)["source"] for line in open(os.path.join(self.corpus, "text.jsonl"), encoding="utf-8")]
        for prefix in ("debian-reference-en:", "debian-reference-zh-cn:", "manpages-zh:", "seeds:"):
            self.assertTrue(any(s.startswith(prefix) for s in sources), prefix)
        tasks = {json.loads(line)["task"] for line in open(os.path.join(self.corpus, "tasks.jsonl"), encoding="utf-8")}
        self.assertEqual(tasks, {"outline", "queries", "draft", "revise"})

    def test_agentd_tokenizes_exactly_like_the_trainer(self):
        import bpe
        tok = bpe.load(self.tokenizer)
        texts = ["DeepSeek-V3 的装机量在 2023 年增长了 35%。", "apt-get install -y foo  # comment\n\n",
                 "<｜begin▁of▁sentence｜>系统<｜User｜>问题 [1]<｜Assistant｜>回答 [2]<｜end▁of▁sentence｜>"]
        texts += [json.loads(line)["text"][:2000] for line in open(os.path.join(self.corpus, "text.jsonl"), encoding="utf-8")][:20]
        jsonl = os.path.join(self.dir, "texts.jsonl")
        with open(jsonl, "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
        out = subprocess.run([os.path.join(BIN, "agentctl"), "engine", "tokenize", "--tokenizer", self.tokenizer,
                              "--jsonl", jsonl], capture_output=True, text=True, check=True).stdout
        ours = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(ours, [tok.encode(t) for t in texts])
        for t in texts:
            self.assertEqual(tok.decode(tok.encode(t)), t)

    def test_training_lowers_the_loss_and_the_engine_matches_the_training_forward(self):
        report = json.load(open(os.path.join(self.model, "training.json")))
        self.assertEqual(report["steps"], 20)
        lines = [l for l in self.train_output.splitlines() if l.startswith("step ")]
        first, last = float(lines[0].split()[3]), float(lines[-1].split()[3])
        self.assertLess(last, first)
        parity = subprocess.run([sys.executable, os.path.join(TRAIN, "check_parity.py"), "--model", self.model,
                                 "--agentctl", os.path.join(BIN, "agentctl")], capture_output=True, text=True)
        self.assertEqual(parity.returncode, 0, parity.stdout + parity.stderr)
        result = json.loads(parity.stdout)
        self.assertLess(result["logits_rel_err"], 1e-3)
        self.assertLess(result["mtp_rel_err"], 1e-3)

    def test_embedder_training_lowers_the_loss_and_the_engine_embeds_like_the_trainer(self):
        lines = [l for l in self.embedder_output.splitlines() if l.startswith("step ")]
        self.assertEqual(json.load(open(os.path.join(self.embedder, "training.json")))["steps"], 20)
        losses = [float(l.split()[3]) for l in lines]
        self.assertLess(losses[-1], losses[0])
        for name in ("modules.json", "1_Pooling/config.json", "config_sentence_transformers.json", "tokenizer.json"):
            self.assertTrue(os.path.exists(os.path.join(self.embedder, name)), name)
        parity = subprocess.run([sys.executable, os.path.join(TRAIN, "check_embedder_parity.py"), "--model", self.embedder,
                                 "--agentctl", os.path.join(BIN, "agentctl")], capture_output=True, text=True)
        self.assertEqual(parity.returncode, 0, parity.stdout + parity.stderr)
        result = json.loads(parity.stdout)
        self.assertLess(result["document_rel_err_max"], 1e-3)
        self.assertLess(result["query_rel_err_max"], 1e-3)


if __name__ == "__main__":
    unittest.main()
