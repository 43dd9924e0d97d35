"""Zoo entry `fashion_mnist_classifier`: the small CNN behind the fashion_mnist quality metrics.

Its softmax gives the classifier score and class coverage of generated samples; its
128-d `features` layer the classifier Frechet distance (TF-GAN's "MNIST score" and
"MNIST Frechet distance", without a TF-Hub download).

    python zoo/fashion_mnist_classifier.py
"""

from _recipe import run_classifier

if __name__ == "__main__":
    run_classifier(
        "fashion_mnist_classifier", "fashion_mnist", epochs=3,
        description="CNN classifier of Fashion-MNIST (10 classes) used as the feature extractor "
                    "and class predictor of the zoo's quality metrics.")
