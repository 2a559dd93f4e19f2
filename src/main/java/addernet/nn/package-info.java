/**
 * Layers, networks and network specs, with hand-written forward and backward passes.
 *
 * <p>For later stages (quantization, hardware generation): {@link addernet.nn.Network#layers()}
 * gives the layers in order as typed objects. {@link addernet.nn.Conv2d} and {@link
 * addernet.nn.Dense} carry their {@link addernet.nn.Operation} (ADDER: y = -sum |x - w|,
 * MULTIPLY: y = sum x * w), sizes, kernel, stride, padding and live weights ([out][in][ky][kx] and
 * [out][in]); they have no bias. {@link addernet.nn.BatchNorm} exposes gamma, beta, running mean,
 * running (unbiased) variance and eps; eval mode computes gamma * (x - mean) / sqrt(var + eps) +
 * beta. {@link addernet.nn.Relu}, {@link addernet.nn.MaxPool} (window = stride = size) and {@link
 * addernet.nn.Flatten} complete the list. Any layer's {@code forward(x, Mode.EVAL, workers)} runs
 * it in inference mode on a {@link addernet.nn.Tensor}, which is channel-major (C x N x H x W; see
 * {@link addernet.nn.Tensor#fromImages}).
 */
package addernet.nn;
