// What src/seccomp compiles: a profile already checked and turned into numbers. The runtime
// builds it from config.json (src/runtime/plan/seccomp.ts); nothing here knows the OCI types.

export interface SeccompCondition {
  /** argument index, 0 to 5 */
  index: number;
  /** libseccomp's enum scmp_compare (names.ts OPERATORS) */
  op: number;
  value: bigint;
  /** the expected value of SCMP_CMP_MASKED_EQ (value is the mask) */
  valueTwo: bigint;
}

export interface SeccompRule {
  names: string[];
  /** a full SCMP_ACT_* value (names.ts actionValue) */
  action: number;
  args: SeccompCondition[];
  /** how errors name this rule, e.g. `linux.seccomp.syscalls[3]` */
  label: string;
}

export interface SeccompRequest {
  defaultAction: number;
  /** libseccomp arch names ("x86_64", "x32"...); the native arch is always in the filter */
  architectures: string[];
  /** SECCOMP_FILTER_FLAG_* bits asked for (names.ts FILTER_FLAGS) */
  flags: number;
  rules: SeccompRule[];
  /** how errors name the profile, e.g. `linux.seccomp` */
  label: string;
}
