import {
  type FormErrors,
  type FormFieldMap,
  formErrorsFromCall,
  hasFormErrors,
  noFormErrors,
} from "./field-violations.js";
import { focusFirstError } from "./focus-first-error.js";

/**
 * One form's submit cycle: what the browser finds wrong is shown and focused before anything is
 * sent; while the call runs the form is busy; a refused call's violations land next to their
 * fields and focus moves to the first one.
 */
export class FormSubmission {
  /** What the form shows. */
  errors = $state<FormErrors>(noFormErrors());
  /** Whether a call is under way: the submit button stays disabled meanwhile. */
  submitting = $state(false);
  /** The form element (`bind:this`), where the first error to focus is looked for. */
  form = $state<HTMLFormElement>();
  readonly #fields: FormFieldMap;

  /** `fields` lays the server's violations out on this form. */
  constructor(fields: FormFieldMap) {
    this.#fields = fields;
  }

  /**
   * Shows the browser's own check of the form; false, with the first error focused, when the
   * form must not be sent.
   */
  async accept(found: FormErrors): Promise<boolean> {
    this.errors = found;
    if (!hasFormErrors(found)) return true;
    await focusFirstError(this.form);
    return false;
  }

  /**
   * Runs `call` with the form busy. A failure shows on the form, unless `claim` takes it for
   * itself (returns true; a stale edit, say, gets its own notice), which clears the form's errors.
   */
  async send(call: () => Promise<void>, claim?: (error: unknown) => boolean): Promise<void> {
    this.submitting = true;
    try {
      await call();
    } catch (error) {
      this.errors = claim?.(error) ? noFormErrors() : formErrorsFromCall(error, this.#fields);
      await focusFirstError(this.form);
    } finally {
      this.submitting = false;
    }
  }
}
