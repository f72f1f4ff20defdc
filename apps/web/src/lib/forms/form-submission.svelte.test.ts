import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@grouppe/api/rpc";
import { describe, expect, it } from "vitest";
import { FormSubmission } from "./form-submission.svelte.js";

const signUpFields = { fields: ["display_name", "email", "password"] };

describe("form submission", () => {
  it("holds the form back while the browser's own check finds something", async () => {
    const submission = new FormSubmission(signUpFields);
    const found = { fields: { email: "Enter an email address." }, general: [] };
    expect(await submission.accept(found)).toBe(false);
    expect(submission.errors).toEqual(found);
    expect(await submission.accept({ fields: {}, general: [] })).toBe(true);
    expect(submission.errors).toEqual({ fields: {}, general: [] });
  });

  it("is busy only while the call runs and shows a refusal next to its field", async () => {
    const submission = new FormSubmission(signUpFields);
    const busy: boolean[] = [];
    await submission.send(async () => {
      busy.push(submission.submitting);
      throw new ConnectError("taken", Code.AlreadyExists, undefined, [
        {
          desc: ErrorInfoSchema,
          value: create(ErrorInfoSchema, { reason: "EMAIL_TAKEN", metadata: { field: "email" } }),
        },
      ]);
    });
    expect(busy).toEqual([true]);
    expect(submission.submitting).toBe(false);
    expect(submission.errors.fields.email).toMatch(/already exists/);
  });

  it("leaves a failure the caller claims off the form", async () => {
    const submission = new FormSubmission(signUpFields);
    submission.errors = { fields: { email: "Enter an email address." }, general: [] };
    const claimed: unknown[] = [];
    const failure = new ConnectError("stale", Code.Aborted);
    await submission.send(
      () => Promise.reject(failure),
      (error) => claimed.push(error) > 0,
    );
    expect(claimed).toEqual([failure]);
    expect(submission.errors).toEqual({ fields: {}, general: [] });
  });

  it("puts a failure without violations on top of the form", async () => {
    const submission = new FormSubmission(signUpFields);
    await submission.send(() => Promise.reject(new ConnectError("down", Code.Unavailable)));
    expect(submission.errors).toEqual({
      fields: {},
      general: ["We can't reach grouppe right now. Check your connection and try again."],
    });
    expect(submission.submitting).toBe(false);
  });
});
