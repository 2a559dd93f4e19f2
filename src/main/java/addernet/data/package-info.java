/** IDX files, image sets, input normalization and augmentation; Fashion-MNIST by default. */
package addernet.data;
