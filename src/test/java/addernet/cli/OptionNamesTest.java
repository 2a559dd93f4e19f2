package addernet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** One name per setting across the commands; the other spellings are hidden and still work. */
class OptionNamesTest {
  /** A hidden spelling and the visible name it stands for, in one command. */
  record Alias(String command, String old, String now) {}

  /** The spellings that were unified: each command's old name and the name the others use. */
  static final List<Alias> ALIASES = List.of(
      new Alias("quantize", "--test-limit", "--images"),
      new Alias("cosim", "--jobs", "--threads"),
      new Alias("export", "--torch", "--checkpoint"),
      new Alias("import", "--spec", "--model"));

  /** Every command and subcommand as typed, e.g. "bench train", with its spec. */
  private static Map<String, CommandSpec> commands() {
    Map<String, CommandSpec> all = new TreeMap<>();
    collect(new CommandLine(new Main()).getSubcommands(), "", all);
    return all;
  }

  private static void collect(Map<String, CommandLine> level, String prefix, Map<String, CommandSpec> into) {
    level.forEach((name, cl) -> {
      if (!name.equals("help")) {
        into.put(prefix + name, cl.getCommandSpec());
        collect(cl.getSubcommands(), prefix + name + " ", into);
      }
    });
  }

  /** What kind of value an option takes: a flag, a number, or a name (a path, a word). */
  private static String kind(OptionSpec o) {
    Class<?> t = o.type();
    if (o.arity().max() == 0 || t == boolean.class || t == Boolean.class) {
      return "flag";
    }
    if (t.isPrimitive() || Number.class.isAssignableFrom(t)) {
      return "number";
    }
    return "name";
  }

  @Test
  void aVisibleNameTakesOneKindOfValueInEveryCommand() {
    Map<String, Set<String>> kinds = new TreeMap<>();
    Map<String, List<String>> where = new TreeMap<>();
    commands().forEach((cmd, spec) -> {
      for (OptionSpec o : spec.options()) {
        if (!o.hidden()) {
          for (String name : o.names()) {
            kinds.computeIfAbsent(name, k -> new TreeSet<>()).add(kind(o));
            where.computeIfAbsent(name, k -> new ArrayList<>()).add(cmd + ":" + kind(o));
          }
        }
      }
    });
    assertTrue(kinds.containsKey("--threads") && kinds.containsKey("--model"), kinds.keySet().toString());
    kinds.forEach((name, k) -> assertEquals(1, k.size(), name + " takes different kinds of value: " + where.get(name)));
  }

  @Test
  void everyOldSpellingIsHiddenAndItsNameIsTheOneOtherCommandsUse() {
    Map<String, CommandSpec> commands = commands();
    for (Alias a : ALIASES) {
      CommandSpec spec = commands.get(a.command());
      OptionSpec old = spec.findOption(a.old());
      OptionSpec now = spec.findOption(a.now());
      assertNotNull(old, a + ": the old spelling is not accepted");
      assertNotNull(now, a + ": no option " + a.now());
      assertTrue(old.hidden(), a + ": the old spelling is shown in --help");
      assertFalse(now.hidden(), a + ": the new name is hidden");
      assertEquals(a.now(), OptionAlias.target(old), a + ": the hidden option is not an alias of " + a.now());
      // The name is shared: at least one other command already takes it.
      long others = commands.entrySet().stream().filter(e -> !e.getKey().equals(a.command()))
          .filter(e -> e.getValue().findOption(a.now()) != null && !e.getValue().findOption(a.now()).hidden()).count();
      assertTrue(others >= 1, a + ": no other command has " + a.now());
      String help = CliRun.run(a.command(), "--help").out();
      assertTrue(help.contains(a.now()), a + ": --help does not show " + a.now() + ":\n" + help);
      assertFalse(help.contains(a.old() + "="), a + ": --help shows " + a.old() + ":\n" + help);
    }
    // Every alias in the CLI is one of these, so the list above is the whole story.
    commands.forEach((cmd, spec) -> spec.options().stream().filter(o -> OptionAlias.target(o) != null)
        .forEach(o -> assertTrue(ALIASES.contains(new Alias(cmd, o.longestName(), OptionAlias.target(o))),
            cmd + " " + o.longestName() + " is an alias missing from ALIASES")));
  }

  @Test
  void theOldNamesAreShownNowhereForTheSetting() {
    // --jobs, --test-limit and --spec mean nothing else anywhere; --torch stays import's PyTorch file.
    commands().forEach((cmd, spec) -> {
      for (OptionSpec o : spec.options()) {
        if (o.hidden()) {
          continue;
        }
        for (String name : o.names()) {
          assertFalse(Set.of("--jobs", "--test-limit", "--spec").contains(name), cmd + " shows " + name);
          if (name.equals("--torch")) {
            assertEquals("import", cmd, cmd + " shows --torch");
          }
        }
      }
    });
  }

  /** A value of the option's type that parsing accepts. */
  private static String sample(OptionSpec o, int n) {
    return kind(o).equals("number") ? String.valueOf(2 + n) : "some/place-" + n;
  }

  /** The command words, then every other required option with a value, then {@code extra}. */
  private static List<String> line(Alias a, List<String> extra) {
    CommandSpec spec = commands().get(a.command());
    List<String> args = new ArrayList<>(List.of(a.command().split(" ")));
    for (OptionSpec o : spec.requiredArgs().stream().filter(x -> x instanceof OptionSpec).map(x -> (OptionSpec) x).toList()) {
      if (!o.longestName().equals(a.now())) {
        args.add(o.longestName());
        args.add(o.arity().max() == 0 ? null : sample(o, 0));
      }
    }
    args.removeIf(java.util.Objects::isNull);
    args.addAll(extra);
    return args;
  }

  /** Parses without running; returns the command's visible option after the parse, and what it printed. */
  private static Map.Entry<OptionSpec, String> parse(Alias a, List<String> extra) {
    CommandLine main = new CommandLine(new Main());
    StringWriter err = new StringWriter();
    main.setErr(new PrintWriter(err, true));
    CommandLine.ParseResult r = main.parseArgs(line(a, extra).toArray(String[]::new));
    while (r.hasSubcommand()) {
      r = r.subcommand();
    }
    return Map.entry(r.commandSpec().findOption(a.now()), err.toString());
  }

  @Test
  void theOldSpellingSetsTheSameFieldAsTheNewName() throws Exception {
    for (Alias a : ALIASES) {
      OptionSpec shape = commands().get(a.command()).findOption(a.now());
      String value = sample(shape, 1);
      var byNew = parse(a, List.of(a.now(), value));
      var byOld = parse(a, List.of(a.old(), value));
      var byOldAttached = parse(a, List.of(a.old() + "=" + value));
      Object expected = byNew.getKey().getValue();
      assertNotNull(expected, a + ": " + a.now() + " " + value + " set nothing");
      assertEquals(expected, byOld.getKey().getValue(), a + ": " + a.old() + " " + value);
      assertEquals(expected, byOldAttached.getKey().getValue(), a + ": " + a.old() + "=" + value);
      // The field itself, read off the command object, not only picocli's view of it.
      var field = (java.lang.reflect.Field) byOld.getKey().userObject();
      field.setAccessible(true);
      assertEquals(expected, field.get(byOld.getKey().command().userObject()), a + ": the field");
      assertTrue(byOld.getValue().contains(a.old()) && byOld.getValue().contains(a.now()),
          a + ": no note naming the new spelling: " + byOld.getValue());
      assertEquals(1, byOld.getValue().strip().lines().count(), byOld.getValue());
      assertEquals("", byNew.getValue(), a + ": the new name printed something");
    }
  }

  @Test
  void bothSpellingsWithTheSameValueAreOneSetting() {
    for (Alias a : ALIASES) {
      String value = sample(commands().get(a.command()).findOption(a.now()), 1);
      Object alone = parse(a, List.of(a.now(), value)).getKey().getValue();
      assertEquals(alone, parse(a, List.of(a.now(), value, a.old(), value)).getKey().getValue(), a + ": new, old");
      assertEquals(alone, parse(a, List.of(a.old(), value, a.now(), value)).getKey().getValue(), a + ": old, new");
      assertEquals(alone, parse(a, List.of(a.old() + "=" + value, a.now() + "=" + value)).getKey().getValue(),
          a + ": old=, new=");
    }
  }

  @Test
  void bothSpellingsWithDifferentValuesAreRefusedNamingBoth() {
    for (Alias a : ALIASES) {
      OptionSpec shape = commands().get(a.command()).findOption(a.now());
      String one = sample(shape, 1);
      String two = sample(shape, 2);
      for (List<String> extra : List.of(List.of(a.now(), one, a.old(), two), List.of(a.old(), two, a.now(), one),
          List.of(a.old() + "=" + two, a.now() + "=" + one))) {
        CliRun.Outcome o = CliRun.run(line(a, extra).toArray(String[]::new));
        String context = a + " " + extra + ": " + o.err();
        assertEquals(2, o.code(), context);
        List<String> errors = o.err().lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), context);
        String e = errors.get(0);
        assertTrue(e.contains(a.now() + " " + one) && e.contains(a.old() + " " + two), context);
        assertTrue(e.contains("see 'addernet " + a.command() + " --help'"), context);
        assertEquals("", o.out(), context);
      }
      assertThrows(CommandLine.ParameterException.class, () -> parse(a, List.of(a.now(), one, a.old(), two)), a.toString());
    }
  }

  @Test
  void aRequiredOptionMayBeGivenByEitherSpellingAndIsMissedByItsNewName() {
    List<Alias> required = ALIASES.stream()
        .filter(a -> commands().get(a.command()).findOption(a.now()).required()).toList();
    assertEquals(Set.of("export", "import"), Set.copyOf(required.stream().map(Alias::command).toList()));
    for (Alias a : required) {
      OptionSpec now = commands().get(a.command()).findOption(a.now());
      assertNotNull(parse(a, List.of(a.old(), sample(now, 1))).getKey().getValue(), a + ": by the old spelling");
      CliRun.Outcome o = CliRun.run(line(a, List.of()).toArray(String[]::new));
      assertEquals(2, o.code(), a + ": " + o.err());
      assertTrue(o.err().startsWith("error: Missing required option: '" + a.now() + "=" + now.paramLabel() + "'"),
          a + ": " + o.err());
      assertFalse(o.err().contains(a.old()), a + ": " + o.err());
    }
  }

  @Test
  void anOldSpellingWithoutAValueIsRefusedInTheNewName() {
    for (Alias a : ALIASES) {
      CliRun.Outcome o = CliRun.run(line(a, List.of(a.old())).toArray(String[]::new));
      assertEquals(2, o.code(), a + ": " + o.err());
      List<String> errors = o.err().lines().filter(l -> l.startsWith("error: ")).toList();
      assertEquals(1, errors.size(), a + ": " + o.err());
      assertTrue(errors.get(0).contains("for option '" + a.now() + "'"), a + ": " + o.err());
    }
  }
}
