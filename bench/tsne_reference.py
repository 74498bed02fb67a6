#!/usr/bin/env python3
"""t-SNE reference for bench/tsne: scikit-learn's TSNE on the same points, and the quality
measures applied identically to both embeddings (ours from `fan tsne`, sklearn's).

Usage: tsne_reference.py --in X.csv --ours Y.csv [--labels L.csv] --perplexity P --seed S
                         [--sklearn-method barnes_hut|exact] [--threads N]
Prints one JSON object.
"""
import argparse
import json
import os
import time

import numpy as np


def knn_indices(x, k):
    from sklearn.neighbors import NearestNeighbors
    nn = NearestNeighbors(n_neighbors=k + 1).fit(x)
    idx = nn.kneighbors(x, return_distance=False)
    return idx[:, 1:]


def knn_recall(x, y, k=10):
    """Mean fraction of each point's k nearest neighbours in X kept among its k nearest in Y."""
    a, b = knn_indices(x, k), knn_indices(y, k)
    return float(np.mean([len(set(a[i]) & set(b[i])) / k for i in range(len(x))]))


def one_nn_label_accuracy(y, labels):
    idx = knn_indices(y, 1)[:, 0]
    return float(np.mean(labels[idx] == labels))


def sparse_p(x, perplexity):
    """scikit-learn's Barnes-Hut input P: 3*perplexity nearest neighbours, symmetrised."""
    from sklearn.manifold._t_sne import _joint_probabilities_nn
    from sklearn.neighbors import NearestNeighbors
    k = min(len(x) - 1, int(3.0 * perplexity + 1))
    nn = NearestNeighbors(n_neighbors=k).fit(x)
    d = nn.kneighbors_graph(mode="distance")
    d.data **= 2
    return _joint_probabilities_nn(d, perplexity, 0)


def kl_exact_z(p, y, chunk=2000):
    """KL(P||Q) for a sparse P with the exact normaliser Z = sum_{i!=j} 1/(1+|yi-yj|^2)."""
    y = y.astype(np.float64)
    z = 0.0
    for s in range(0, len(y), chunk):
        d2 = ((y[s:s + chunk, None, :] - y[None, :, :]) ** 2).sum(-1)
        z += (1.0 / (1.0 + d2)).sum() - min(chunk, len(y) - s)
    p = p.tocoo()
    d2 = ((y[p.row] - y[p.col]) ** 2).sum(-1)
    q = 1.0 / (1.0 + d2) / z
    return float(np.sum(p.data * np.log(np.maximum(p.data, 1e-300) / np.maximum(q, 1e-300))))


def kl_dense(x, y, perplexity):
    """KL(P||Q) with scikit-learn's exact-method P (all pairs)."""
    from sklearn.manifold._t_sne import _joint_probabilities, _kl_divergence
    from sklearn.metrics import pairwise_distances
    d = pairwise_distances(x, squared=True)
    p = _joint_probabilities(d, perplexity, 0)
    kl, _ = _kl_divergence(y.astype(np.float64).ravel(), p, 1, len(x), 2, compute_error=True)
    return float(kl)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--perplexity", type=float, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sklearn-method", default="barnes_hut")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import sklearn
    from sklearn.manifold import TSNE, trustworthiness

    x = np.loadtxt(a.inp, delimiter=",", dtype=np.float32, ndmin=2)
    ours = np.loadtxt(a.ours, delimiter=",", dtype=np.float64, ndmin=2)
    t = time.perf_counter()
    tsne = TSNE(n_components=2, perplexity=a.perplexity, init="pca", learning_rate="auto",
                method=a.sklearn_method, random_state=a.seed, n_iter=1000)
    ref = tsne.fit_transform(x)
    seconds = time.perf_counter() - t

    p = sparse_p(x, a.perplexity)
    out = {
        "sklearn_version": sklearn.__version__,
        "sklearn_method": a.sklearn_method,
        "points": int(x.shape[0]),
        "dimensions": int(x.shape[1]),
        "sklearn_seconds": seconds,
        "sklearn_kl_reported": float(tsne.kl_divergence_),
        "kl_sparse_p_exact_z": {"ours": kl_exact_z(p, ours), "sklearn": kl_exact_z(p, ref)},
        "knn_recall_10": {"ours": knn_recall(x, ours), "sklearn": knn_recall(x, ref)},
    }
    if len(x) <= 3000:
        out["kl_dense_p"] = {"ours": kl_dense(x, ours, a.perplexity), "sklearn": kl_dense(x, ref, a.perplexity)}
        out["trustworthiness_10"] = {"ours": float(trustworthiness(x, ours, n_neighbors=10)),
                                     "sklearn": float(trustworthiness(x, ref, n_neighbors=10))}
    if a.labels:
        labels = np.loadtxt(a.labels, delimiter=",", ndmin=1).astype(int).ravel()
        out["one_nn_label_accuracy"] = {"ours": one_nn_label_accuracy(ours, labels),
                                        "sklearn": one_nn_label_accuracy(ref, labels)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
