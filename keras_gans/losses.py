"""GAN losses and regularisers as pure functions of logits and images.

Every function casts its inputs to float32 first (so it works unchanged under a
`mixed_bfloat16` or `mixed_float16` policy) and returns a float32 scalar: the mean over
every element of the batch. Discriminator outputs may have any shape (`(batch, 1)` for
an image-level critic, `(batch, h, w, 1)` for a PatchGAN); the mean runs over all of it.

Naming: `*_logits` are pre-sigmoid scores used with a cross-entropy or hinge loss;
`*_outputs` are raw scores used as they are (least squares, Wasserstein).

The adversarial losses come in (discriminator, generator) pairs that `get` returns by
name:

>>> d_loss_fn, g_loss_fn = get("non_saturating")
>>> d_loss = d_loss_fn(real_logits, fake_logits)
>>> g_loss = g_loss_fn(fake_logits)

Models compile with objects made of these pairs and their hyper-parameters,
`AdversarialLoss` (`Minimax`, `NonSaturating`, `LeastSquares`, `Wasserstein`, `Hinge`,
`FunctionPair` around any pair of callables), built from a name by `adversarial`.

`gradient_penalty` and `r1_penalty` differentiate the discriminator with respect to its
input and therefore use `tf.GradientTape`: they need the TensorFlow backend. The
cycle-consistency and identity losses are CycleGAN's; `pixel_mse_loss` and
`feature_mse_loss` are the functions behind the content-loss objects of
`keras_gans.features`.
"""

import inspect

import keras
import tensorflow as tf
from keras import ops

# Inside the square root of the gradient norm: d sqrt(s)/ds is infinite at s = 0, and the
# penalty's own gradient (taken w.r.t. the critic weights) goes through that derivative.
_NORM_EPSILON = 1e-12


def _float32(x):
    return ops.cast(x, "float32")


def _validate_label_smoothing(label_smoothing):
    try:
        value = float(label_smoothing)
    except (TypeError, ValueError):
        value = None
    if value is None or not 0.0 <= value < 1.0:
        raise ValueError(
            "Received an invalid value for argument `label_smoothing`. Expected a float "
            f"in [0, 1), received: label_smoothing={label_smoothing!r}"
        )
    return value


# --- Minimax (cross-entropy) ---


def minimax_discriminator_loss(real_logits, fake_logits, label_smoothing=0.0):
    """Discriminator loss of the original GAN: binary cross-entropy from logits.

    `L_D = -E[t log D(x)] - E[(1 - t) log(1 - D(x))] - E[log(1 - D(G(z)))]`, with
    `D = sigmoid(logits)` and real target `t = 1 - label_smoothing`. Written with
    `softplus` so it is exact for large logits:
    `L_D = E[softplus(r) - t * r] + E[softplus(f)]`.

    Goodfellow et al., 2014, "Generative Adversarial Nets"
    (https://arxiv.org/abs/1406.2661). One-sided label smoothing (only the real target is
    smoothed; smoothing the fake target too rewards the generator for staying where it
    is): Salimans et al., 2016, "Improved Techniques for Training GANs"
    (https://arxiv.org/abs/1606.03498), section 3.4.

    Args:
        real_logits: discriminator logits on real data, any shape.
        fake_logits: discriminator logits on generated data, any shape.
        label_smoothing: float in `[0, 1)`. The real target becomes
            `1 - label_smoothing`; `0.1` is a common choice.

    Returns:
        A float32 scalar: mean loss on real plus mean loss on fake.

    Example:

    >>> float(minimax_discriminator_loss(np.zeros((4, 1)), np.zeros((4, 1))))
    1.3862943649291992
    """
    smoothing = _validate_label_smoothing(label_smoothing)
    real_logits = _float32(real_logits)
    fake_logits = _float32(fake_logits)
    real_target = 1.0 - smoothing
    real_loss = ops.mean(ops.softplus(real_logits) - real_target * real_logits)
    fake_loss = ops.mean(ops.softplus(fake_logits))
    return real_loss + fake_loss


def minimax_generator_loss(fake_logits):
    """Generator loss of the original minimax game (the saturating form).

    `L_G = E[log(1 - D(G(z)))] = -E[softplus(f)]`, minimised by the generator. Its
    gradient vanishes when the discriminator confidently rejects the samples, which is
    why `non_saturating_generator_loss` is used in practice; this form is here for
    completeness and comparison.

    Goodfellow et al., 2014, "Generative Adversarial Nets"
    (https://arxiv.org/abs/1406.2661), equation 1.

    Args:
        fake_logits: discriminator logits on generated data, any shape.

    Returns:
        A float32 scalar, at most 0: the mean of `log(1 - D(G(z)))` over the batch.
    """
    return -ops.mean(ops.softplus(_float32(fake_logits)))


def non_saturating_generator_loss(fake_logits):
    """Non-saturating generator loss: `L_G = -E[log D(G(z))] = E[softplus(-f)]`.

    Same fixed point as the minimax game but strong gradients early in training, when the
    discriminator rejects every sample.

    Goodfellow et al., 2014, "Generative Adversarial Nets"
    (https://arxiv.org/abs/1406.2661), section 3.

    Args:
        fake_logits: discriminator logits on generated data, any shape.

    Returns:
        A float32 scalar.
    """
    return ops.mean(ops.softplus(-_float32(fake_logits)))


# --- Least squares ---


def least_squares_discriminator_loss(real_outputs, fake_outputs, a=0.0, b=1.0):
    """Least-squares discriminator loss (LSGAN).

    `L_D = 0.5 * E[(D(x) - b)^2] + 0.5 * E[(D(G(z)) - a)^2]`, where `a` is the target
    for fake data and `b` the target for real data. `D` outputs raw scores (no sigmoid).

    Mao et al., 2017, "Least Squares Generative Adversarial Networks"
    (https://arxiv.org/abs/1611.04076), equation 2; `a=0, b=1, c=1` is the paper's
    0-1 coding.

    Args:
        real_outputs: discriminator outputs on real data, any shape.
        fake_outputs: discriminator outputs on generated data, any shape.
        a: target for generated data.
        b: target for real data.

    Returns:
        A float32 scalar.
    """
    real_outputs = _float32(real_outputs)
    fake_outputs = _float32(fake_outputs)
    real_loss = ops.mean(ops.square(real_outputs - b))
    fake_loss = ops.mean(ops.square(fake_outputs - a))
    return 0.5 * real_loss + 0.5 * fake_loss


def least_squares_generator_loss(fake_outputs, c=1.0):
    """Least-squares generator loss (LSGAN): `L_G = 0.5 * E[(D(G(z)) - c)^2]`.

    Mao et al., 2017, "Least Squares Generative Adversarial Networks"
    (https://arxiv.org/abs/1611.04076), equation 2.

    Args:
        fake_outputs: discriminator outputs on generated data, any shape.
        c: the value the generator wants the discriminator to believe for fake data.

    Returns:
        A float32 scalar.
    """
    fake_outputs = _float32(fake_outputs)
    return 0.5 * ops.mean(ops.square(fake_outputs - c))


# --- Wasserstein ---


def wasserstein_critic_loss(real_outputs, fake_outputs):
    """Wasserstein critic loss: `L_D = E[D(G(z))] - E[D(x)]`.

    Minimising it maximises the critic's estimate of the Wasserstein-1 distance. The
    critic must be kept (approximately) 1-Lipschitz: weight clipping in the paper, or
    `gradient_penalty` (WGAN-GP).

    Arjovsky et al., 2017, "Wasserstein GAN" (https://arxiv.org/abs/1701.07875).

    Args:
        real_outputs: critic outputs on real data, any shape.
        fake_outputs: critic outputs on generated data, any shape.

    Returns:
        A float32 scalar.
    """
    return ops.mean(_float32(fake_outputs)) - ops.mean(_float32(real_outputs))


def wasserstein_generator_loss(fake_outputs):
    """Wasserstein generator loss: `L_G = -E[D(G(z))]`.

    Arjovsky et al., 2017, "Wasserstein GAN" (https://arxiv.org/abs/1701.07875).

    Args:
        fake_outputs: critic outputs on generated data, any shape.

    Returns:
        A float32 scalar.
    """
    return -ops.mean(_float32(fake_outputs))


# --- Hinge ---


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge discriminator loss: `L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]`.

    Lim & Ye, 2017, "Geometric GAN" (https://arxiv.org/abs/1705.02894); used with
    spectral normalisation by Miyato et al., 2018, "Spectral Normalization for
    Generative Adversarial Networks" (https://arxiv.org/abs/1802.05957).

    Args:
        real_logits: discriminator outputs on real data, any shape.
        fake_logits: discriminator outputs on generated data, any shape.

    Returns:
        A float32 scalar.
    """
    real_logits = _float32(real_logits)
    fake_logits = _float32(fake_logits)
    return ops.mean(ops.relu(1.0 - real_logits)) + ops.mean(ops.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits):
    """Hinge generator loss: `L_G = -E[D(G(z))]`.

    Lim & Ye, 2017, "Geometric GAN" (https://arxiv.org/abs/1705.02894); Miyato et al.,
    2018 (https://arxiv.org/abs/1802.05957).

    Args:
        fake_logits: discriminator outputs on generated data, any shape.

    Returns:
        A float32 scalar.
    """
    return wasserstein_generator_loss(fake_logits)  # the same formula


# --- Relativistic average (ESRGAN) ---


def relativistic_average_discriminator_loss(real_logits, fake_logits):
    """Relativistic average discriminator loss: how much more real than the average fake
    each real sample looks, and the reverse.

    `L_D = (-E[log sigmoid(r - E[f])] - E[log(1 - sigmoid(f - E[r]))]) / 2
         = (E[softplus(-(r - E[f]))] + E[softplus(f - E[r])]) / 2`, the means over the
    batch (under `tf.distribute`, over each replica's share of it). ESRGAN's equation 1
    without the halving; its authors' code, and the RaGAN paper's, average the two
    terms, so ESRGAN's weights (`adversarial_weight` 5e-3) carry over as they are.

    Jolicoeur-Martineau, 2018, "The relativistic discriminator: a key element missing
    from standard GAN" (https://arxiv.org/abs/1807.00734), RaGAN; used for
    super-resolution by Wang et al., 2018, "ESRGAN" (https://arxiv.org/abs/1809.00219),
    equation 1.

    Args:
        real_logits: discriminator logits on real data, any shape.
        fake_logits: discriminator logits on generated data, the same shape.

    Returns:
        A float32 scalar.

    Example:

    >>> float(relativistic_average_discriminator_loss(np.zeros((4, 1)), np.zeros((4, 1))))
    0.6931471824645996
    """
    real_logits = _float32(real_logits)
    fake_logits = _float32(fake_logits)
    return 0.5 * (ops.mean(ops.softplus(ops.mean(fake_logits) - real_logits))
                  + ops.mean(ops.softplus(fake_logits - ops.mean(real_logits))))


def relativistic_average_generator_loss(real_logits, fake_logits):
    """Relativistic average generator loss, the discriminator's with the roles swapped:
    `L_G = (E[softplus(r - E[f])] + E[softplus(-(f - E[r]))]) / 2`.

    Unlike the other generator losses it takes the real logits too: the generator gains
    both from its samples looking more real and from the real ones looking less so
    relative to them, so its gradient comes through both terms (ESRGAN, equation 2).

    Args:
        real_logits: discriminator logits on real data, any shape.
        fake_logits: discriminator logits on generated data, the same shape.

    Returns:
        A float32 scalar.
    """
    real_logits = _float32(real_logits)
    fake_logits = _float32(fake_logits)
    return 0.5 * (ops.mean(ops.softplus(real_logits - ops.mean(fake_logits)))
                  + ops.mean(ops.softplus(ops.mean(real_logits) - fake_logits)))


# --- Gradient regularisers (TensorFlow backend) ---


def _interpolation_alpha(batch_size, rank):
    """Draws one `alpha ~ U[0, 1]` per example, shaped `(batch, 1, ..., 1)` of `rank`.

    `tf.random.uniform` (not a Keras `SeedGenerator`) so that each replica under
    `tf.distribute` draws its own coefficients.
    """
    shape = tf.concat([[batch_size], tf.ones([rank - 1], dtype=tf.int32)], axis=0)
    return tf.random.uniform(shape, minval=0.0, maxval=1.0, dtype=tf.float32)


def _call(network, x, condition, training):
    if condition is None:
        return network(x, training=training)
    # Keras refuses a list mixing tensors and numpy arrays.
    condition = tf.nest.map_structure(tf.convert_to_tensor, condition)
    return network([x, condition], training=training)


def _batch_rank(real):
    """The rank of `real`, which must be a batch of rank >= 2."""
    rank = real.shape.rank
    if rank is None or rank < 2:
        raise ValueError(
            "Received an invalid value for argument `real`. Expected a batch of rank >= 2, "
            f"received: real.shape={real.shape}"
        )
    return rank


def _input_gradients(network, x, condition, training, loss_scale=None):
    """Gradient of `sum(network(x))` with respect to `x`, in float32.

    Summing the outputs gives each example's own gradient, provided examples do not
    interact inside the network (no batch normalisation in training mode). With
    `loss_scale`, the sum is multiplied by it and the float32 gradient divided by it:
    in float16 the backward pass then keeps small gradients from underflowing (an
    overflow gives non-finite values, which a `LossScaleOptimizer` skips).
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        outputs = tf.cast(_call(network, x, condition, training), tf.float32)
        total = tf.reduce_sum(outputs)
        if loss_scale is not None:
            total = total * tf.cast(loss_scale, tf.float32)
    grads = tf.cast(tape.gradient(total, x), tf.float32)
    return grads if loss_scale is None else grads / tf.cast(loss_scale, tf.float32)


def gradient_penalty(
    critic, real, fake, *, alpha=None, condition=None, one_sided=False, training=True,
    loss_scale=None,
):
    """Gradient penalty of WGAN-GP on random interpolates of real and fake data.

    `x_hat = alpha * x + (1 - alpha) * G(z)` with `alpha ~ U[0, 1]` drawn independently
    for each example, and

    `GP = E[(||grad_{x_hat} D(x_hat)||_2 - 1)^2]`

    with the norm taken over all non-batch axes. With `one_sided=True` only gradients
    with norm above 1 are penalised: `GP = E[relu(||grad|| - 1)^2]` (Petzka et al., 2018,
    "On the regularization of Wasserstein GANs", https://arxiv.org/abs/1709.08894).
    The caller multiplies by the penalty weight (`lambda = 10` in the paper).

    Gulrajani et al., 2017, "Improved Training of Wasserstein GANs"
    (https://arxiv.org/abs/1704.00028), algorithm 1.

    Uses `tf.GradientTape`: TensorFlow backend only. Differentiable with respect to the
    critic's weights (call it under the tape that computes the critic's loss). The
    critic must treat examples independently (no batch normalisation; the paper uses
    layer normalisation or none).

    Args:
        critic: a callable (usually a `keras.Model`) mapping images, or
            `[images, condition]` when `condition` is given, to scores.
        real: a batch of real data, shape `(batch, ...)`.
        fake: a batch of generated data, same shape as `real`.
        alpha: optional interpolation coefficients, broadcastable to `real` (for example
            shape `(batch, 1, 1, 1)`, or `(batch,)` which is reshaped). `None` (the
            default) draws `U[0, 1]` per example; pass values to make the result
            deterministic.
        condition: optional second critic input (for example class labels), passed
            unchanged as `critic([x_hat, condition])`; it is not differentiated.
        one_sided: penalise only gradient norms above 1.
        training: passed to the critic call.
        loss_scale: optional scale of the input gradient's backward pass (mixed_float16
            training passes its `LossScaleOptimizer`'s `dynamic_scale`); the gradient
            is unscaled in float32 before the norm, so the value does not change.

    Returns:
        A float32 scalar.

    Example:

    >>> gp = gradient_penalty(critic, real_images, fake_images)
    >>> d_loss = wasserstein_critic_loss(real_out, fake_out) + 10.0 * gp
    """
    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    rank = _batch_rank(real)
    if alpha is None:
        alpha = _interpolation_alpha(tf.shape(real)[0], rank)
    else:
        alpha = tf.cast(alpha, tf.float32)
        if alpha.shape.rank == 1:
            alpha = tf.reshape(alpha, [-1] + [1] * (rank - 1))
    x_hat = alpha * real + (1.0 - alpha) * fake

    grads = _input_gradients(critic, x_hat, condition, training, loss_scale)
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, rank))) + _NORM_EPSILON)
    if one_sided:
        return tf.reduce_mean(tf.square(tf.nn.relu(norm - 1.0)))
    return tf.reduce_mean(tf.square(norm - 1.0))


def r1_penalty(discriminator, real, *, condition=None, training=True, loss_scale=None):
    """R1 regulariser: mean squared gradient norm of the discriminator on real data.

    Returns `E_x[||grad_x D(x)||_2^2]` **without** the `gamma / 2` factor: the paper's
    regulariser is `R1 = gamma / 2 * E[||grad_x D(x)||^2]`, so the caller adds
    `0.5 * gamma * r1_penalty(...)` to the discriminator loss. `D(x)` is the logit
    (pre-sigmoid) output; the norm is taken over all non-batch axes.

    Mescheder et al., 2018, "Which Training Methods for GANs do actually Converge?"
    (https://arxiv.org/abs/1801.04406), equation 9.

    Uses `tf.GradientTape`: TensorFlow backend only. The discriminator must treat
    examples independently (no batch normalisation in training mode).

    Args:
        discriminator: a callable mapping images, or `[images, condition]` when
            `condition` is given, to logits.
        real: a batch of real data, shape `(batch, ...)`.
        condition: optional second discriminator input, not differentiated.
        training: passed to the discriminator call.
        loss_scale: optional scale of the input gradient's backward pass, as in
            `gradient_penalty`.

    Returns:
        A float32 scalar.
    """
    real = tf.cast(real, tf.float32)
    rank = _batch_rank(real)
    grads = _input_gradients(discriminator, real, condition, training, loss_scale)
    return tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=list(range(1, rank))))


# --- Reconstruction and content ---


def cycle_consistency_loss(real, cycled):
    """Cycle-consistency loss: `L_cyc = E[|x - F(G(x))|]` (mean absolute error).

    Zhu et al., 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks" (https://arxiv.org/abs/1703.10593), equation 2. The caller
    weights it (`lambda = 10` in the paper).

    Args:
        real: images from one domain.
        cycled: the same images translated to the other domain and back.

    Returns:
        A float32 scalar.
    """
    return ops.mean(ops.abs(_float32(real) - _float32(cycled)))


def identity_loss(real, same):
    """Identity loss: `L_id = E[|y - G(y)|]` for `y` already in `G`'s target domain.

    Zhu et al., 2017 (https://arxiv.org/abs/1703.10593), section 5.2; the paper weights
    it by `0.5 * lambda`.

    Args:
        real: images from the generator's target domain.
        same: the generator applied to `real`.

    Returns:
        A float32 scalar.
    """
    return ops.mean(ops.abs(_float32(real) - _float32(same)))


def pixel_mse_loss(y_true, y_pred):
    """Pixel-wise mean squared error: `E[(y - y_hat)^2]`.

    Ledig et al., 2017, "Photo-Realistic Single Image Super-Resolution Using a
    Generative Adversarial Network" (https://arxiv.org/abs/1609.04802), equation 4
    (the SRResNet objective).

    Args:
        y_true: target images.
        y_pred: predicted images, same shape.

    Returns:
        A float32 scalar.
    """
    return ops.mean(ops.square(_float32(y_true) - _float32(y_pred)))


def pixel_l1_loss(y_true, y_pred):
    """Pixel-wise mean absolute error: `E[|y - y_hat|]`.

    The objective of EDSR (Lim et al., 2017, "Enhanced Deep Residual Networks for Single
    Image Super-Resolution", https://arxiv.org/abs/1707.02921, section 4.2), which found
    it trains super-resolution networks to a higher PSNR than the MSE.

    Args:
        y_true: target images.
        y_pred: predicted images, same shape.

    Returns:
        A float32 scalar.
    """
    return ops.mean(ops.abs(_float32(y_true) - _float32(y_pred)))


def feature_mse_loss(feature_extractor, y_true, y_pred):
    """Content (perceptual) loss: `E[(phi(y) - phi(y_hat))^2]` in feature space.

    Ledig et al., 2017 (https://arxiv.org/abs/1609.04802), equation 5, where `phi` is a
    VGG feature map. Images are passed to `feature_extractor` as they are (in `[-1, 1]`
    in this package): the extractor does its own preprocessing.

    Args:
        feature_extractor: a callable mapping images to features, e.g. a frozen
            `keras.Model`.
        y_true: target images.
        y_pred: predicted images, same shape.

    Returns:
        A float32 scalar.
    """
    true_features = _float32(feature_extractor(y_true))
    pred_features = _float32(feature_extractor(y_pred))
    return ops.mean(ops.square(true_features - pred_features))


# --- Lookup ---

_PAIRS = {
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "non_saturating": (minimax_discriminator_loss, non_saturating_generator_loss),
    "least_squares": (least_squares_discriminator_loss, least_squares_generator_loss),
    "wasserstein": (wasserstein_critic_loss, wasserstein_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}


def get(identifier):
    """Returns the `(discriminator_loss_fn, generator_loss_fn)` pair named `identifier`.

    Args:
        identifier: one of `"minimax"`, `"non_saturating"`, `"least_squares"`,
            `"wasserstein"`, `"hinge"`; or a `(d_loss_fn, g_loss_fn)` pair of callables,
            returned as it is.

    Returns:
        A tuple `(d_loss_fn, g_loss_fn)`.

    Example:

    >>> d_loss_fn, g_loss_fn = get("hinge")
    """
    if (
        isinstance(identifier, (tuple, list))
        and len(identifier) == 2
        and all(callable(fn) for fn in identifier)
    ):
        return tuple(identifier)
    if isinstance(identifier, str) and identifier in _PAIRS:
        return _PAIRS[identifier]
    raise ValueError(
        "Received an invalid value for argument `identifier`. Expected one of "
        f"{sorted(_PAIRS)} or a (d_loss_fn, g_loss_fn) pair, received: "
        f"identifier={identifier!r}"
    )


# --- Adversarial losses as objects: a pair of the functions above and its parameters ---


@keras.saving.register_keras_serializable(package="keras_gans")
class AdversarialLoss:
    """A (discriminator, generator) pair of the functions above with its hyper-parameters.

    What a model compiles with: `discriminator(real, fake)` and `generator(fake)` call
    the pure functions, the hyper-parameters live in the object (and in its config, so
    a `.keras` file restores them). Subclasses set `name` (the key of `get`) and
    override `discriminator_options` / `generator_options` when they have any.

    Example:

    >>> loss = LeastSquares(a=-1.0, b=1.0, c=0.0)
    >>> d_loss, g_loss = loss.discriminator(real, fake), loss.generator(fake)
    """

    name = None
    #: Whether the discriminator's outputs are logits of a probability.
    outputs_are_logits = True

    def discriminator(self, real_outputs, fake_outputs):
        return _PAIRS[self.name][0](real_outputs, fake_outputs,
                                    **self.discriminator_options())

    def generator(self, fake_outputs):
        return _PAIRS[self.name][1](fake_outputs, **self.generator_options())

    def discriminator_options(self):
        return {}

    def generator_options(self):
        return {}

    def get_config(self):
        return {**self.discriminator_options(), **self.generator_options()}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({options})"


@keras.saving.register_keras_serializable(package="keras_gans")
class Minimax(AdversarialLoss):
    """`minimax_discriminator_loss(label_smoothing)` and `minimax_generator_loss`."""

    name = "minimax"

    def __init__(self, label_smoothing=0.0):
        _validate_label_smoothing(label_smoothing)
        self.label_smoothing = float(label_smoothing)

    def discriminator_options(self):
        return {"label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="keras_gans")
class NonSaturating(Minimax):
    """The minimax discriminator loss and `non_saturating_generator_loss`."""

    name = "non_saturating"


@keras.saving.register_keras_serializable(package="keras_gans")
class LeastSquares(AdversarialLoss):
    """`least_squares_discriminator_loss(a, b)` and `generator_weight *
    least_squares_generator_loss(c)`.

    `generator_weight=2` drops LSGAN's factor 1/2 from the generator's loss, as CycleGAN
    does (Zhu et al. 2017, section 4, the authors' `MSELoss(D(fake), 1)`), so that the
    adversarial terms keep their weight 1 next to the cycle term.
    """

    name = "least_squares"
    outputs_are_logits = False

    def __init__(self, a=0.0, b=1.0, c=1.0, generator_weight=1.0):
        self.a, self.b, self.c = float(a), float(b), float(c)
        self.generator_weight = float(generator_weight)

    def discriminator_options(self):
        return {"a": self.a, "b": self.b}

    def generator_options(self):
        return {"c": self.c}

    def generator(self, fake_outputs):
        loss = least_squares_generator_loss(fake_outputs, c=self.c)
        return loss if self.generator_weight == 1.0 else self.generator_weight * loss

    def get_config(self):
        return {**super().get_config(), "generator_weight": self.generator_weight}


@keras.saving.register_keras_serializable(package="keras_gans")
class Wasserstein(AdversarialLoss):
    """`wasserstein_critic_loss` and `wasserstein_generator_loss` (unbounded scores)."""

    name = "wasserstein"
    outputs_are_logits = False


@keras.saving.register_keras_serializable(package="keras_gans")
class Hinge(AdversarialLoss):
    """`hinge_discriminator_loss` and `hinge_generator_loss`."""

    name = "hinge"


@keras.saving.register_keras_serializable(package="keras_gans")
class FunctionPair(AdversarialLoss):
    """Any `(d_loss(real, fake), g_loss(fake))` pair of callables (serialised by name)."""

    def __init__(self, discriminator_fn, generator_fn):
        self.discriminator_fn, self.generator_fn = discriminator_fn, generator_fn

    def discriminator(self, real_outputs, fake_outputs):
        return self.discriminator_fn(real_outputs, fake_outputs)

    def generator(self, fake_outputs):
        return self.generator_fn(fake_outputs)

    def get_config(self):
        return {"discriminator_fn": keras.saving.serialize_keras_object(self.discriminator_fn),
                "generator_fn": keras.saving.serialize_keras_object(self.generator_fn)}

    @classmethod
    def from_config(cls, config):
        return cls(*(keras.saving.deserialize_keras_object(config[k])
                     for k in ("discriminator_fn", "generator_fn")))


ADVERSARIAL_LOSSES = {cls.name: cls for cls in (Minimax, NonSaturating, LeastSquares,
                                                Wasserstein, Hinge)}


def adversarial(identifier, **options):
    """An `AdversarialLoss` from a name of `get` (with `options`: its hyper-parameters
    that apply, e.g. `label_smoothing` for the minimax losses), a `(d_loss, g_loss)`
    pair of callables, or an `AdversarialLoss` (returned as it is)."""
    if isinstance(identifier, AdversarialLoss):
        return identifier
    if isinstance(identifier, str) and identifier in ADVERSARIAL_LOSSES:
        cls = ADVERSARIAL_LOSSES[identifier]
        accepted = inspect.signature(cls).parameters
        return cls(**{k: v for k, v in options.items() if k in accepted})
    try:
        return FunctionPair(*get(identifier))
    except ValueError:
        raise ValueError(
            "Received an invalid value for argument `loss`. Expected a loss name "
            f"{sorted(ADVERSARIAL_LOSSES)}, a keras_gans.losses.AdversarialLoss or a pair "
            f"of callables (d_loss, g_loss), received: loss={identifier!r}"
        ) from None


__all__ = [
    "ADVERSARIAL_LOSSES",
    "AdversarialLoss",
    "FunctionPair",
    "Hinge",
    "LeastSquares",
    "Minimax",
    "NonSaturating",
    "Wasserstein",
    "adversarial",
    "cycle_consistency_loss",
    "feature_mse_loss",
    "get",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "identity_loss",
    "least_squares_discriminator_loss",
    "least_squares_generator_loss",
    "minimax_discriminator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "pixel_l1_loss",
    "pixel_mse_loss",
    "r1_penalty",
    "relativistic_average_discriminator_loss",
    "relativistic_average_generator_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
