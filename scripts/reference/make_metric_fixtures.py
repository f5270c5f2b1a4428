#!/usr/bin/python3
"""scikit-learn's classification metrics on small cases, as Podium's ClassificationMetrics
must give them: accuracy, balanced accuracy (mean per-class recall over the classes in the
labels), macro-F1 (over every class in the labels or the predictions, so a class predicted
but absent from the labels counts with F1 = 0) and log loss (clipped to [1e-15, 1 - 1e-15],
rows renormalised, as Kaggle does).

Writes Tests/TrainingTests/Fixtures/metrics.json: [{name, classes, labels, probabilities,
accuracy, balanced_accuracy, macro_f1, log_loss}]. Run with Debian's python3
(python3-sklearn, python3-numpy).
"""
import json
import os

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, log_loss

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TrainingTests", "Fixtures", "metrics.json")
rng = np.random.default_rng(7)


def case(name, labels, probabilities):
    probabilities = np.asarray(probabilities, dtype=np.float32)
    classes = probabilities.shape[1]
    predictions = probabilities.argmax(axis=1)
    return {
        "name": name,
        "classes": classes,
        "labels": [int(x) for x in labels],
        "probabilities": [float(x) for x in probabilities.reshape(-1)],
        "accuracy": accuracy_score(labels, predictions),
        "balanced_accuracy": balanced_accuracy_score(labels, predictions),
        "macro_f1": f1_score(labels, predictions, average="macro", zero_division=0),
        "log_loss": log_loss(labels, probabilities.astype(np.float64), eps=1e-15, labels=list(range(classes))),
    }


def random_probabilities(count, classes):
    logits = rng.normal(size=(count, classes)) * 2
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def main():
    cases = [
        # The example: class 1 is predicted but never a label.
        case("predicted but absent", [0, 0], [[0.9, 0.1], [0.2, 0.8]]),
        case("all right", [0, 1, 2], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]]),
    ]
    # Five classes; class 4 never a label, so predictions of it count against macro-F1.
    labels = rng.integers(0, 4, 40)
    cases.append(case("random, one class absent from labels", labels, random_probabilities(40, 5)))
    # Six classes, some never predicted, a few probabilities at exactly 0.
    labels = rng.integers(0, 6, 25)
    probabilities = random_probabilities(25, 6)
    probabilities[:5, labels[:5]] = 0
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    cases.append(case("random, zero probabilities", labels, probabilities))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
