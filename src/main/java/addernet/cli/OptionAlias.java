package addernet.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.AnnotatedElement;
import java.util.List;
import java.util.Stack;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A hidden second spelling of a one-value option, so that the same setting has the same name in
 * every command while scripts written with the other spelling keep working. Declared as
 *
 * <pre>
 * &#64;Option(names = "--jobs", hidden = true, parameterConsumer = OptionAlias.class)
 * &#64;OptionAlias.Of("--threads")
 * String jobsSpelling; // never set: the value goes to --threads
 * </pre>
 *
 * <p>When picocli meets the hidden name, this puts the visible name in its place on the argument
 * stack, so picocli itself converts and validates the value, fills the visible option's field and
 * counts a required option as given, and its messages name the visible option. Both spellings
 * with the same value are one setting; with different values they are refused, naming both.
 */
public final class OptionAlias implements CommandLine.IParameterConsumer {
  /** The visible option that the annotated hidden one is another spelling of. */
  @Retention(RetentionPolicy.RUNTIME)
  @Target({ElementType.FIELD, ElementType.METHOD})
  public @interface Of {
    String value();
  }

  /** The visible name of {@code alias}, from its {@link Of}; null when it is not an alias. */
  static String target(OptionSpec alias) {
    Of of = alias.userObject() instanceof AnnotatedElement e ? e.getAnnotation(Of.class) : null;
    return of == null ? null : of.value();
  }

  @Override
  public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec spec) {
    OptionSpec alias = (OptionSpec) argSpec;
    String name = target(alias);
    OptionSpec visible = name == null ? null : spec.findOption(name);
    if (visible == null || visible.hidden() || visible.arity().min() != 1 || visible.arity().max() != 1) {
      throw new IllegalStateException(alias.longestName() + " in " + spec.qualifiedName()
          + ": @OptionAlias.Of must name a visible one-value option of the same command, got " + name);
    }
    String old = alias.longestName();
    spec.commandLine().getErr().println("note: " + old + " is now spelled " + name);
    if (args.isEmpty()) {
      // picocli's own message for a missing value, in the visible name.
      args.push(name);
      return;
    }
    String value = args.peek();
    String other = visible.originalStringValues().isEmpty()
        ? laterValue(args, name, spec) : visible.originalStringValues().get(0);
    if (other == null) {
      args.push(name);
      return;
    }
    if (!other.equals(value)) {
      throw new CommandLine.ParameterException(spec.commandLine(), name + " " + other + " and " + old + " " + value
          + " give one setting two values; give " + name + " once", alias, value);
    }
    // The same value under both names: the visible one alone sets it.
    args.pop();
  }

  /**
   * The value given to {@code name} after the alias's own value, or null. {@code args} is
   * picocli's stack of what is left, its top the alias's value; a "--" ends the options and a
   * subcommand's name ends this command's arguments.
   */
  private static String laterValue(Stack<String> args, String name, CommandSpec spec) {
    String separator = spec.parser().separator();
    List<String> rest = args.subList(0, args.size() - 1);
    for (int i = rest.size() - 1; i >= 0; i--) {
      String a = rest.get(i);
      if (a.equals("--") || spec.subcommands().containsKey(a)) {
        return null;
      }
      if (a.equals(name)) {
        return i > 0 ? rest.get(i - 1) : null;
      }
      if (a.startsWith(name + separator)) {
        return a.substring(name.length() + separator.length());
      }
    }
    return null;
  }
}
