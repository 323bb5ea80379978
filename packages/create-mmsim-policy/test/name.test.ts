import { describe, expect, it } from 'vitest';
import { counterPrefixOf, identifierOf, parsePackageName } from '../src/name.js';

describe('parsePackageName: the names npm accepts for a new package', () => {
  it.each([
    ['my-policy', null, 'my-policy'],
    ['@me/my-policy', 'me', 'my-policy'],
    ['@my-org/policy.v2', 'my-org', 'policy.v2'],
    ['a.b_c-1', null, 'a.b_c-1'],
    ['1policy', null, '1policy'],
  ])('%s is accepted (scope %s, base %s)', (name, scope, base) => {
    expect(parsePackageName(name)).toEqual({ full: name, scope, base });
  });

  it.each([
    ['', 'the package name is empty'],
    ['My-Policy', 'the name "My-Policy" has uppercase letters (new packages are lowercase)'],
    ['.hidden', 'the name ".hidden" starts with "."'],
    ['_private', 'the name "_private" starts with "_"'],
    ['my policy', 'the name "my policy" has characters npm does not allow: " "'],
    ['my!policy(x)', 'the name "my!policy(x)" has characters npm does not allow: "!" "(" ")"'],
    ['tilde~x', 'the name "tilde~x" has characters npm does not allow: "~"'],
    ['pólicy', 'the name "pólicy" has characters npm does not allow: "ó"'],
    ['a/b', 'the name "a/b" has characters npm does not allow: "/"'],
    ['@me', '"@me" is not @scope/name'],
    ['@me/a/b', '"@me/a/b" is not @scope/name'],
    ['@/x', 'the scope is empty'],
    ['@me/', 'the name is empty'],
    ['@Me/x', 'the scope "Me" has uppercase letters (new packages are lowercase)'],
    ['fs', '"fs" is a Node.js core module name'],
    ['node_modules', '"node_modules" is a reserved name'],
    ['x'.repeat(215), `"${'x'.repeat(215)}" is longer than 214 characters`],
  ])('%j is refused: %s', (name, error) => {
    expect(parsePackageName(name)).toEqual({ error });
  });

  it('a core module name is fine under a scope', () => {
    expect(parsePackageName('@me/fs')).toEqual({ full: '@me/fs', scope: 'me', base: 'fs' });
  });
});

describe('names derived from the package name', () => {
  it.each([
    ['my-policy', 'myPolicy'],
    ['policy.v2', 'policyV2'],
    ['eager_drain.x', 'eagerDrainX'],
    ['1st-try', 'policy1stTry'],
    ['delete', 'deletePolicy'],
    ['---', 'policy'],
  ])('identifierOf(%s) = %s', (base, id) => {
    expect(identifierOf(base)).toBe(id);
  });

  it.each([
    ['my-policy', 'my_policy'],
    ['policy.v2', 'policy_v2'],
    ['a.b_c', 'a_b_c'],
    ['---', 'policy'],
  ])('counterPrefixOf(%s) = %s', (base, prefix) => {
    expect(counterPrefixOf(base)).toBe(prefix);
  });
});
