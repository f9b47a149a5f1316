// SPDX-License-Identifier: MIT
// The `simdnet` command line: builds the commander program and runs it in-process, mapping every outcome to an exit code.
import { Command, CommanderError, type Option } from 'commander';
import { registerBench } from './bench';
import { registerEval } from './eval';
import { registerExplain } from './explain';
import { registerExport } from './export';
import { packageVersion, registerInfo } from './info';
import { EXIT_OK, exitCodeFor, oneLine, reportError, type CliIO } from './io';
import { registerPredictAndPlot } from './predict';
import { registerServe } from './serve';
import { registerSummary } from './summary';
import { registerTrain } from './train';

/** The commander program for one run. Output goes to `io`; errors throw instead of exiting the process. */
export function createProgram(io: CliIO, setExitCode: (code: number) => void): Command {
  const program = new Command('simdnet')
    .description('Train and evaluate convolutional networks on CIFAR-10 with simdnet.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // Commander's errors (unknown flag, bad value, missing option) as exactly one line.
      outputError: (s, write) => write(`${oneLine(s)}\n`),
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
    });
  // Subcommands created with .command() inherit exitOverride and the output configuration.
  registerTrain(program, io, setExitCode);
  registerEval(program, io, setExitCode);
  registerInfo(program, io, setExitCode);
  registerPredictAndPlot(program, io, setExitCode);
  registerSummary(program, io, setExitCode);
  registerExplain(program, io, setExitCode);
  registerExport(program, io, setExitCode);
  registerBench(program, io, setExitCode);
  registerServe(program, io, setExitCode);
  checkRequiredOptionsLast(program);
  program.addHelpText(
    'after',
    '\nExamples:\n  simdnet train --data ./data --download --epochs 10 --out lenet.safetensors\n  simdnet eval --weights lenet.safetensors --data ./data\n  simdnet bench --model lenet-bn --batch-size 1,64\n' +
      '\nExit codes: 0 ok, 1 runtime error, 2 bad command line, 130 interrupted. SIMDNET_DEBUG=1 prints stack traces.',
  );
  return program;
}

/**
 * Runs the simdnet command line with `argv` (the arguments after the program name) and resolves to
 * the exit code: 0 ok, 1 runtime error, 2 usage error, 130 stopped by the signal. Never throws and
 * never exits the process.
 *
 * @example
 * const code = await runCli(['eval', '--weights', 'lenet.safetensors', '--data', 'data'], { stdout: process.stdout, stderr: process.stderr });
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let code = EXIT_OK;
  try {
    const program = createProgram(io, (c) => {
      code = c;
    });
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    // Help and --version end in a CommanderError with exit code 0; the other CommanderErrors (usage) are already printed.
    if (err instanceof CommanderError) return exitCodeFor(err);
    return reportError(err, io);
  }
}

/**
 * Commander checks required options before unknown ones, so a typo of a required flag (`--weigths`) would be reported
 * as "required option '--weights' not specified" instead of "unknown option '--weigths' (Did you mean --weights?)".
 * This moves the check of every subcommand's required options to a preAction hook, which runs after the unknown-option
 * check, with commander's own message.
 */
function checkRequiredOptionsLast(program: Command): void {
  const required = new Map<Command, Option[]>();
  const visit = (cmd: Command): void => {
    const mandatory = cmd.options.filter((o) => o.mandatory);
    for (const o of mandatory) o.makeOptionMandatory(false);
    if (mandatory.length > 0) required.set(cmd, mandatory);
    cmd.commands.forEach(visit);
  };
  visit(program);
  program.hook('preAction', (_program, action) => {
    const missing = required.get(action)?.find((o) => action.getOptionValue(o.attributeName()) === undefined);
    if (missing !== undefined)
      action.error(`error: required option '${missing.flags}' not specified`, {
        code: 'commander.missingMandatoryOptionValue',
      });
  });
}
