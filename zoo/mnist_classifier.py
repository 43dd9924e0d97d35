"""Zoo entry `mnist_classifier`: the small CNN behind the mnist quality metrics.

Its softmax gives the classifier score and class coverage of generated samples; its
128-d `features` layer the classifier Frechet distance (TF-GAN's "MNIST score" and
"MNIST Frechet distance", without a TF-Hub download).

    python zoo/mnist_classifier.py
"""

from _recipe import run_classifier

if __name__ == "__main__":
    run_classifier(
        "mnist_classifier", "mnist", epochs=20,
        description="CNN classifier of MNIST digits (10 classes) used as the feature extractor "
                    "and class predictor of the zoo's quality metrics.")
