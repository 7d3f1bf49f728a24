/**
 * Ends a vitest run with `# pass N` / `# fail N`, the closing lines that `scripts/test` and CI
 * read from Node's test runner, so the unit tests count in the repository's total.
 */

interface Task {
  type: string;
  mode?: string;
  result?: { state?: string };
  tasks?: Task[];
}

function count(tasks: Task[], totals: { pass: number; fail: number }) {
  for (const task of tasks) {
    if (task.tasks) count(task.tasks, totals);
    if (task.type !== 'test' || task.mode === 'skip' || task.mode === 'todo') continue;
    if (task.result?.state === 'pass') totals.pass += 1;
    else totals.fail += 1;
  }
}

export default class SummaryReporter {
  onFinished(files: Task[] = [], errors: unknown[] = []) {
    const totals = { pass: 0, fail: 0 };
    count(files, totals);
    // A failure outside any test (an import that throws) must not read as a pass.
    if (errors.length > 0 && totals.fail === 0) totals.fail = errors.length;
    console.log(`# pass ${totals.pass}\n# fail ${totals.fail}`);
  }
}
