/** One short confirmation of something the person just did. */
export interface Toast {
  id: number;
  message: string;
  kind: "success" | "info" | "error";
}

/** How long a toast stays; long enough to read twice, short enough not to pile up. */
export const toastMs = 6_000;

let nextId = 1;
const shown = $state<Toast[]>([]);
const timers = new Map<number, ReturnType<typeof setTimeout>>();

/** The toasts on screen, oldest first. */
export function currentToasts(): readonly Toast[] {
  return shown;
}

/** Takes a toast off the screen. */
export function dismissToast(id: number): void {
  clearTimeout(timers.get(id));
  timers.delete(id);
  const index = shown.findIndex((toast) => toast.id === id);
  if (index >= 0) shown.splice(index, 1);
}

/**
 * Confirms an action in a toast that a polite live region reads out. At most three stay on
 * screen; each goes by itself after {@link toastMs}.
 */
export function showToast(message: string, kind: Toast["kind"] = "success"): void {
  const id = nextId++;
  shown.push({ id, message, kind });
  while (shown.length > 3) dismissToast(shown[0]?.id ?? id);
  timers.set(
    id,
    setTimeout(() => dismissToast(id), toastMs),
  );
}
