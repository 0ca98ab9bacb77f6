/**
 * Runs a CLI body: known errors become one line on stderr and a non-zero exit, never a stack trace. With `usage`,
 * `--help` (or `-h`) anywhere on the command line prints it on stdout and exits 0 before anything else runs.
 */
export async function runCli(body: () => Promise<void>, usage?: string): Promise<void> {
  if (usage !== undefined && process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  try {
    await body();
  } catch (err) {
    const e = err as Error;
    const known = ['UsageError', 'DataError', 'CheckpointError', 'TrainingDiverged', 'ExportError', 'ManifestError', 'EvaluationError', 'DeployError', 'BackendError', 'GpuFault'];
    if (known.includes(e.name)) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exit(e.name === 'UsageError' ? 2 : 1);
    }
    throw err;
  }
}
