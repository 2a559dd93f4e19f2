/**
 * Training: {@link addernet.train.Trainer} (epochs, evaluation, checkpoints), {@link
 * addernet.train.Sgd} (momentum, weight decay and the AdderNet adaptive learning rate), {@link
 * addernet.train.CosineSchedule}, {@link addernet.train.Recipe} and {@link
 * addernet.train.Checkpoint}, whose class comment documents the on-disk format. {@code
 * Checkpoint.load(dir).network()} gives a trained network; {@code .normalization()} says how pixels
 * become its inputs.
 */
package addernet.train;
