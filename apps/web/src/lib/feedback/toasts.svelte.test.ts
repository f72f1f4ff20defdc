import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { currentToasts, dismissToast, showToast, toastMs } from "./toasts.svelte.js";

describe("toasts", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    for (const toast of [...currentToasts()]) dismissToast(toast.id);
    vi.useRealTimers();
  });

  it("shows a toast until its time is up or it is dismissed", () => {
    showToast("Link copied");
    showToast("You're going", "success");
    expect(currentToasts().map((toast) => toast.message)).toEqual(["Link copied", "You're going"]);
    dismissToast(currentToasts()[0]?.id ?? 0);
    expect(currentToasts().map((toast) => toast.message)).toEqual(["You're going"]);
    vi.advanceTimersByTime(toastMs);
    expect(currentToasts()).toEqual([]);
  });

  it("keeps the three newest", () => {
    for (const n of [1, 2, 3, 4]) showToast(`toast ${n}`, "info");
    expect(currentToasts().map((toast) => toast.message)).toEqual([
      "toast 2",
      "toast 3",
      "toast 4",
    ]);
  });
});
