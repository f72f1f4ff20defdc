import { tick } from "svelte";

/**
 * Moves focus to the first field marked invalid in `container`, or else to its focusable alert
 * (an error summary or a notice): after a failed submit, keyboard and screen reader users land
 * on what needs fixing. Waits for the errors to render first.
 */
export async function focusFirstError(container: HTMLElement | undefined): Promise<void> {
  await tick();
  const target =
    container?.querySelector<HTMLElement>('[aria-invalid="true"]') ??
    container?.querySelector<HTMLElement>('[role="alert"][tabindex="-1"]');
  target?.focus();
}
