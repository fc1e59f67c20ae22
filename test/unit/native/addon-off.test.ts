// The unit project runs with the addon off (vitest.config.ts): a unit test that reaches the
// native core fails here as it would in a clone without a native build.
import { expect, it } from 'vitest';
import { FailedPrecondition } from '../../../src/errors.js';
import { eventfd } from '../../../src/native/index.js';

it('the native core is off in unit tests, and says where such a test belongs', () => {
  expect(() => eventfd()).toThrow(FailedPrecondition);
  expect(() => eventfd()).toThrow('a test that needs it belongs in test/native');
});
