"""bfloat16 vs float32 training quality on the `dcgan_mnist` zoo recipe.

Trains the recipe's DCGAN (28x28x1, latent 64, base width 64, EMA 0.999, batch 64) on
the same 4,000 real MNIST digits, with the same seeds, once under the default float32
policy and once under Keras's `mixed_bfloat16` policy (bfloat16 compute, float32
weights, float32 losses and outputs), then scores both with the zoo's
`mnist_classifier`: the classifier-feature Frechet distance to the 1,000 held-out
digits (lower is better), the classifier score and the class entropy (higher is
better), as `zoo/_recipe.py` reports them.

    python benchmarks/mixed_precision_quality.py              # 10 epochs each
    python benchmarks/mixed_precision_quality.py --epochs 2   # a quick look
"""

import argparse
import os
import sys
import time

import _common
import keras

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "zoo"))


def train_and_score(policy, epochs, samples, split, heads, test_features):
    import _recipe

    import keras_gans
    from keras_gans.models.dcgan import DCGAN

    (x_train, _), _ = split
    keras.utils.set_random_seed(0)
    with _common.keras_policy(policy):
        gan = DCGAN.from_shape((28, 28, 1), latent_dim=64, base_filters=64, ema_decay=0.999,
                               seed=0)
        gan.compile()
    data = keras_gans.data.images(x_train, batch_size=64, seed=0)
    start = time.perf_counter()
    history = gan.fit(data, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    images = gan.generate(samples, seed=1)
    assert images.dtype == "float32"
    quality = _recipe.sample_quality(heads, images, 10, test_features)
    quality.update({"train_seconds": seconds,
                    "steps": int(gan.g_optimizer.iterations.numpy()),
                    "final_d_loss": history.history["d_loss"][-1],
                    "final_g_loss": history.history["g_loss"][-1]})
    return quality


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    import _recipe

    import keras_gans

    print(_common.machine_description(), flush=True)
    split = _recipe.mnist_split()
    heads = _recipe.classifier_heads(keras_gans.load("mnist_classifier"))
    test_features, _ = _recipe.features_and_probs(heads, split[1][0])
    reference = _recipe.sample_quality(heads, split[0][0][:args.samples], 10, test_features)
    print(f"real training digits: Frechet {reference['frechet_distance']:.2f}, "
          f"classifier score {reference['classifier_score']:.2f}")
    for policy in ("float32", "mixed_bfloat16"):
        q = train_and_score(policy, args.epochs, args.samples, split, heads, test_features)
        print(f"{policy:15s} Frechet {q['frechet_distance']:7.2f}  classifier score "
              f"{q['classifier_score']:5.2f}  class entropy {q['class_entropy']:.3f}/"
              f"{q['class_entropy_max']:.3f}  missing classes {q['classes_missing']}  "
              f"({q['steps']} steps, {q['train_seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
