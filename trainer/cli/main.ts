/** Runs a CLI body: known errors become one line on stderr and a non-zero exit, never a stack trace. */
export async function runCli(body: () => Promise<void>): Promise<void> {
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
