"""keras_gans: a Keras 3 / TensorFlow model zoo of generative adversarial networks."""

import pathlib

from setuptools import find_packages, setup

HERE = pathlib.Path(__file__).parent

# TensorFlow ships as `tensorflow-cpu` for Linux/Windows on x86_64 (no CUDA
# libraries, a fifth of the download) and as `tensorflow` everywhere else. GPU
# users install `.[gpu]` (TensorFlow with its CUDA wheels) instead of the default.
TF_CPU = "tensorflow-cpu>=2.16; platform_machine in 'x86_64 AMD64'"
TF_OTHER = "tensorflow>=2.16; platform_machine not in 'x86_64 AMD64'"


def _savedmodels_files():
    root = HERE / "savedmodels"
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.suffix != ".py"
    )


setup(
    name="keras_gans",
    version="0.1.0",
    description="A Keras 3 / TensorFlow model zoo of GANs: DCGAN, WGAN-GP, LSGAN, CycleGAN, SRGAN",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.9",
    # Every subpackage (models, data, cli, ...), found rather than listed: a list missed
    # `keras_gans.data` and `keras_gans.cli` once, breaking every non-editable install.
    packages=[*find_packages(include=["keras_gans", "keras_gans.*"]), "keras_gans.savedmodels"],
    package_dir={"keras_gans.savedmodels": "savedmodels"},
    package_data={"keras_gans.savedmodels": _savedmodels_files()},
    install_requires=[
        TF_CPU,
        TF_OTHER,
        "keras>=3.0",
        # tensorflow-cpu 2.21 no longer pulls TensorBoard; the summaries need it.
        "tensorboard",
        "numpy",
        "pillow",
        "tensorflow-datasets>=4.9",
        # tfds 4.9.10 imports importlib_resources without declaring it.
        "importlib_resources",
        # k-means and PCA of `GAN.adapt` (self-conditioning, `clusters=K`).
        "scikit-learn",
    ],
    extras_require={
        "gpu": ["tensorflow[and-cuda]>=2.16"],
        "test": ["pytest", "pytest-xdist", "scipy", "ruff", "mlxtend", "grpcio", "scikit-image",
                 "opencv-python-headless"],
        "demo": ["mlxtend"],
        "metrics": ["scipy"],
        # The gRPC client also needs tensorflow-serving-api, which requires `tensorflow`
        # (not tensorflow-cpu): `pip install --no-deps tensorflow-serving-api`.
        "serving": ["grpcio", "protobuf"],
        "bench": ["torch==2.13.0", "scikit-image", "opencv-python-headless"],
    },
    entry_points={"console_scripts": ["keras-gans=keras_gans.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
