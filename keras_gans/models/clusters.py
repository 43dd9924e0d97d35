"""Self-conditioning on clusters of the training images (an unconditional GAN's option).

A GAN built with `clusters=K` stays unconditional for its users (`generate(n)`, the
serving signatures and the fingerprint take noise only), but inside it is conditional
on K clusters of the training images, found without labels (k-means of the images'
principal components, `GAN.adapt`):

- `ClusterSampler`, the generator's first layer, picks each sample's cluster from its
  noise: the normal CDF of `z[:, 0]` read against the clusters' cumulative frequencies,
  so clusters are drawn as often as they hold training images and `generate(z=...)`
  stays a function of `z`.
- `NearestCentroid`, held by the GAN, assigns every real image to its cluster in the
  train step; the discriminator (a projection discriminator over the K clusters) judges
  real images under their own cluster and fakes under the one they were drawn for.

This is the fixed-clustering form of self-conditioned GANs (Liu et al. 2020, "Diverse
Image Generation via Self-Conditioned GANs", which re-cluster the discriminator's
features during training): conditioning on data modes keeps an unconditional
generator from spreading samples between them.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gans.models.base import _check_positive_int


def _check_clusters(clusters):
    _check_positive_int("clusters", clusters, allow_none=True)
    if clusters is not None and clusters < 2:
        raise ValueError("Received an invalid value for argument `clusters`. Expected an "
                         f"integer >= 2 (or None), received: clusters={clusters!r}")
    return None if clusters is None else int(clusters)


@keras.saving.register_keras_serializable(package="keras_gans")
class ClusterSampler(keras.layers.Layer):
    """Noise `[B, latent_dim]` -> int32 cluster ids `[B]`, drawn from `z[:, 0]`.

    A standard normal `z[:, 0]` is mapped through the normal CDF to a uniform `u`, and
    the cluster is the first whose cumulative frequency exceeds `u`. The frequencies are
    a non-trainable weight, uniform until `GAN.adapt` sets them from the data.

    Args:
        clusters: the number of clusters K.
    """

    def __init__(self, clusters, **kwargs):
        kwargs.setdefault("dtype", "float32")  # float32 under mixed precision too
        super().__init__(**kwargs)
        self.clusters = _check_clusters(clusters)
        self.frequencies = self.add_weight(
            shape=(self.clusters,), initializer=keras.initializers.Constant(1 / self.clusters),
            trainable=False, name="frequencies")

    def build(self, input_shape):
        self.built = True

    def call(self, z):
        u = 0.5 * tf.math.erfc(-tf.cast(z[:, 0], "float32") / np.sqrt(2.0))
        cumulative = tf.cumsum(tf.cast(self.frequencies, "float32"))
        cumulative = cumulative[:-1] / cumulative[-1]
        ids = tf.reduce_sum(tf.cast(u[:, None] >= cumulative[None, :], "int32"), axis=1)
        return tf.minimum(ids, self.clusters - 1)

    def compute_output_spec(self, z):
        return keras.KerasTensor((z.shape[0],), dtype="int32")

    def get_config(self):
        return {**super().get_config(), "clusters": self.clusters}


@keras.saving.register_keras_serializable(package="keras_gans")
class NearestCentroid(keras.layers.Layer):
    """Images `[B, H, W, C]` -> int32 ids `[B]` of their nearest cluster centroid, in
    the space of the first `dims` principal components of the adapted images.

    Weights (non-trainable, set by `set_clusters`): the images' mean pixels, the
    projection, the centroids, and `adapted` (0 until set).
    """

    def __init__(self, clusters, image_shape, dims=50, **kwargs):
        kwargs.setdefault("dtype", "float32")  # float32 under mixed precision too
        super().__init__(**kwargs)
        self.clusters = _check_clusters(clusters)
        self.image_shape = tuple(int(s) for s in image_shape)
        pixels = int(np.prod(self.image_shape))
        _check_positive_int("dims", dims)
        self.dims = int(min(dims, pixels))
        zeros = keras.initializers.Zeros()
        self.mean = self.add_weight(shape=(pixels,), initializer=zeros, trainable=False,
                                    name="mean")
        self.projection = self.add_weight(shape=(pixels, self.dims), initializer=zeros,
                                          trainable=False, name="projection")
        self.centroids = self.add_weight(shape=(self.clusters, self.dims), initializer=zeros,
                                         trainable=False, name="centroids")
        self.adapted = self.add_weight(shape=(), initializer=zeros, trainable=False,
                                       name="adapted")

    def build(self, input_shape):
        self.built = True

    def call(self, images):
        flat = tf.reshape(tf.cast(images, "float32"), [tf.shape(images)[0], -1])
        points = tf.matmul(flat - self.mean, self.projection)
        distances = (tf.reduce_sum(points ** 2, 1, keepdims=True)
                     - 2.0 * tf.matmul(points, self.centroids, transpose_b=True)
                     + tf.reduce_sum(self.centroids ** 2, 1)[None, :])
        return tf.argmin(distances, axis=1, output_type=tf.int32)

    def compute_output_spec(self, images):
        return keras.KerasTensor((images.shape[0],), dtype="int32")

    @property
    def is_adapted(self):
        return bool(keras.ops.convert_to_numpy(self.adapted))

    def set_clusters(self, mean, projection, centroids):
        """Sets the weights; fewer components than `dims` are zero-padded (the same
        distances)."""
        pad = self.dims - projection.shape[1]
        projection = np.pad(projection, ((0, 0), (0, pad)))
        centroids = np.pad(centroids, ((0, 0), (0, pad)))
        self.mean.assign(mean.astype("float32"))
        self.projection.assign(projection.astype("float32"))
        self.centroids.assign(centroids.astype("float32"))
        self.adapted.assign(1.0)

    def get_config(self):
        return {**super().get_config(), "clusters": self.clusters,
                "image_shape": list(self.image_shape), "dims": self.dims}


def cluster_images(images, clusters, dims=50, seed=0):
    """k-means (scikit-learn, 4 initialisations) of float images' first `dims` principal
    components: `(mean, projection, centroids, counts)` as numpy arrays."""
    from sklearn.cluster import KMeans  # a dependency; imported only where it is used
    from sklearn.decomposition import PCA
    flat = images.reshape(len(images), -1).astype("float64")
    dims = min(dims, flat.shape[1], len(flat))
    pca = PCA(dims, random_state=seed).fit(flat)
    points = pca.transform(flat)
    kmeans = KMeans(clusters, n_init=4, random_state=seed).fit(points)
    counts = np.bincount(kmeans.labels_, minlength=clusters)
    # Project with the same affine map the layer applies: (x - mean) @ components.T
    return pca.mean_, pca.components_.T, kmeans.cluster_centers_, counts
