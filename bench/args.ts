/** The bench's command-line flags (`--name value`), read the same way by every bench entry point. */

/** The value after `--name`, or `fallback` when the flag is absent or has no value. */
export function flag(name: string, fallback: string, argv: readonly string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  const value = i >= 0 ? argv[i + 1] : undefined;
  return value !== undefined && !value.startsWith("--") ? value : fallback;
}

/** Table counts after `--name` ("10000,100000"); 0 or an empty list skips that bench. */
export function sizes(name: string, fallback: string, argv: readonly string[] = process.argv): number[] {
  return flag(name, fallback, argv)
    .split(",")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}
