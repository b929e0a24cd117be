import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entitiesInText, localExtract } from '../../core/extraction/entity-extractor.ts';

describe('local entity extraction', () => {
  it('finds the people, places and organisations a memory names', () => {
    const graph = localExtract('My sister Maria Silva works at Acme Labs in Lisbon.');
    assert.deepEqual(
      graph.entities.map((e) => e.name),
      ['Maria Silva', 'Acme Labs', 'Lisbon'],
    );
  });

  it('types the link between two entities from the verb between them', () => {
    const graph = localExtract('Maria works at Acme. Tom lives in Porto.');
    assert.deepEqual(graph.relations[0], { from: 'Maria', to: 'Acme', type: 'WORKS_AT' });
    assert.ok(
      graph.relations.some((r) => r.from === 'Tom' && r.to === 'Porto' && r.type === 'LIVES_IN'),
    );
  });

  it('does not take sentence openers and pronouns for entities', () => {
    const graph = localExtract("I think The weather is nice. Remember that I'm tired.");
    assert.deepEqual(graph.entities, []);
  });

  it('matches known entity names in a query as whole words, case-insensitively', () => {
    const names = ['Maria Silva', 'Acme', 'Ac'];
    assert.deepEqual(entitiesInText('where does maria silva work these days?', names), [
      'Maria Silva',
    ]);
    assert.deepEqual(entitiesInText('ACME news', names), ['Acme']);
  });
});
