import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEntityExtractor, localExtract } from '../../core/extraction/entity-extractor.ts';
import type { MemoryGraph } from '../../core/ports/graph-store.ts';
import type { EmulatorGenerateRequest } from '../../tools/gemini-emulator/emulator.ts';
import { localModelAdapters, useEmulatedModel } from '../support/emulated-model.ts';

const memory = 'My sister Maria Silva works at Acme Labs in Lisbon.';

/** The graph of `memory` (Maria Silva, at Acme Labs, in Lisbon) with the given entity and relation types. */
const mariaGraph = (
  [maria, acme, lisbon]: [string, string, string],
  [worksAt, acmeInLisbon]: [string, string],
): MemoryGraph => ({
  entities: [
    { name: 'Maria Silva', type: maria },
    { name: 'Acme Labs', type: acme },
    { name: 'Lisbon', type: lisbon },
  ],
  relations: [
    { from: 'Maria Silva', to: 'Acme Labs', type: worksAt },
    { from: 'Acme Labs', to: 'Lisbon', type: acmeInLisbon },
  ],
});

/** What the local extraction finds in `memory`: capitalised names, typed `thing`. */
const localGraph = mariaGraph(['thing', 'thing', 'thing'], ['WORKS_AT', 'RELATED_TO']);

describe('entity extraction over the real Gemini client and the emulator', () => {
  const { emulator, adapters } = useEmulatedModel();

  const extractor = () => createEntityExtractor({ model: adapters.model, timeoutMs: 5000 });

  it('turns a model answer in schema into the graph, with lower-case types and upper-snake relations', async () => {
    const requests: EmulatorGenerateRequest[] = [];
    emulator.configure({
      responder: (request) => {
        requests.push(request);
        return JSON.stringify(
          mariaGraph(['Person', 'ORGANIZATION', 'place'], ['works at', 'Located-In']),
        );
      },
    });

    const { graph, modelCalls } = await extractor().extract(memory);

    assert.deepEqual(
      graph,
      mariaGraph(['person', 'organization', 'place'], ['WORKS_AT', 'LOCATED_IN']),
    );
    assert.equal(modelCalls, 1);
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.prompt, memory);
    assert.equal(requests[0]?.json, true);
  });

  it('drops a relation that names an entity the model did not list, and keeps the others', async () => {
    emulator.configure({
      responder: () =>
        JSON.stringify({
          entities: [
            { name: 'Maria Silva', type: 'person' },
            { name: 'Acme Labs', type: 'organization' },
          ],
          relations: [
            { from: 'maria silva', to: 'ACME LABS', type: 'WORKS_AT' },
            { from: 'Maria Silva', to: 'Lisbon', type: 'LIVES_IN' },
            { from: 'Tom', to: 'Acme Labs', type: 'WORKS_AT' },
          ],
        }),
    });

    const { graph, modelCalls } = await extractor().extract(memory);

    assert.deepEqual(graph.relations, [{ from: 'maria silva', to: 'ACME LABS', type: 'WORKS_AT' }]);
    assert.deepEqual(
      graph.entities.map((e) => e.name),
      ['Maria Silva', 'Acme Labs'],
    );
    assert.equal(modelCalls, 1);
  });

  it('falls back to the local extraction when the model answers off-schema', async () => {
    const offSchema = [
      '{"entities": "Maria Silva"}',
      '{"entities": [{"name": "Maria Silva", "type": "person"}]}',
      '{"entities": [{"name": "Maria Silva"}], "relations": []}',
      '{"entities": [], "relations": [{"from": "Maria Silva", "type": "KNOWS"}]}',
      '[]',
      'null',
    ];
    for (const answer of offSchema) {
      emulator.configure({ responder: () => answer });
      const { graph, modelCalls } = await extractor().extract(memory);
      assert.deepEqual(graph, localGraph, `answer ${answer}`);
      assert.equal(modelCalls, 1, `answer ${answer}`);
    }
  });

  it('falls back to the local extraction when the model answers with text that is not JSON', async () => {
    emulator.configure({
      responder: () => 'Sure! Maria Silva is a person who works at Acme Labs.',
    });

    const { graph, modelCalls } = await extractor().extract(memory);

    assert.deepEqual(graph, localGraph);
    assert.equal(modelCalls, 1);
  });

  it('falls back to the local extraction on a server error, calling the model once', async () => {
    emulator.configure({ methods: { generateContent: { failures: { serverError: 1 } } } });

    const { graph, modelCalls } = await extractor().extract(memory);

    assert.deepEqual(graph, localGraph);
    assert.equal(modelCalls, 1);
    const stats = emulator.stats().generateContent;
    assert.equal(stats.calls, 1);
    assert.equal(stats.serverErrors, 1);
  });

  it('extracts several memories of one user in one call, each missing or spoiled one locally', async () => {
    const other = 'Jonas Berg lives in Berlin.';
    const third = 'Claire Dubois studies at Sorbonne University.';
    const requests: EmulatorGenerateRequest[] = [];
    emulator.configure({
      responder: (request) => {
        requests.push(request);
        const asked = JSON.parse(request.prompt) as { id: number; text: string }[];
        assert.deepEqual(
          asked.map((m) => m.text),
          [memory, other, third],
        );
        return JSON.stringify({
          memories: [
            { id: 1, ...mariaGraph(['Person', 'organization', 'place'], ['works at', 'in']) },
            // The second is left out; the third is off-schema: both are extracted locally.
            { id: 3, entities: 'Claire' },
          ],
        });
      },
    });

    const { graphs, modelCalls } = await extractor().extractMany([memory, other, third]);

    assert.equal(modelCalls, 1);
    assert.equal(requests.length, 1);
    assert.deepEqual(graphs, [
      mariaGraph(['person', 'organization', 'place'], ['WORKS_AT', 'IN']),
      localExtract(other),
      localExtract(third),
    ]);
  });

  it('extracts every memory of a batch locally when the batched call fails', async () => {
    emulator.configure({ methods: { generateContent: { failures: { serverError: 1 } } } });
    const contents = [memory, 'Jonas Berg lives in Berlin.'];
    const { graphs } = await extractor().extractMany(contents);
    assert.deepEqual(graphs, contents.map(localExtract));
  });

  it('falls back to the local extraction when the model does not answer in time', async () => {
    emulator.configure({ methods: { generateContent: { failures: { timeout: 1 } } } });

    const { graph, modelCalls } = await createEntityExtractor({
      model: adapters.model,
      timeoutMs: 200,
    }).extract(memory);

    assert.deepEqual(graph, localGraph);
    assert.equal(modelCalls, 1);
  });
});

describe('entity extraction with no model configured', () => {
  it('extracts locally without calling a model', async () => {
    const adapters = await localModelAdapters();
    try {
      assert.equal(adapters.model, null);
      const { graph, modelCalls } = await createEntityExtractor({
        model: adapters.model,
        timeoutMs: 5000,
      }).extract(memory);
      assert.deepEqual(graph, localGraph);
      assert.deepEqual(graph, localExtract(memory));
      assert.equal(modelCalls, 0);
    } finally {
      await adapters.close();
    }
  });
});

describe('relation types and names from a model answer', () => {
  const modelAnswering = (answer: unknown) => ({
    id: 'scripted',
    generate: () =>
      Promise.resolve({ text: JSON.stringify(answer), model: 'scripted', latencyMs: 0 }),
  });

  it('keeps accented and non-Latin letters of a relation type and trims stray underscores', async () => {
    const extractor = createEntityExtractor({
      timeoutMs: 1000,
      model: modelAnswering({
        entities: [
          { name: 'Maria', type: 'person' },
          { name: 'João', type: 'person' },
        ],
        relations: [
          { from: 'Maria', to: 'João', type: 'époux de' },
          { from: 'Maria', to: 'João', type: 'works at.' },
          { from: 'Maria', to: 'João', type: 'работает в' },
        ],
      }),
    });
    const { graph } = await extractor.extract('Maria e João');
    assert.deepEqual(
      graph.relations.map((r) => r.type),
      ['ÉPOUX_DE', 'WORKS_AT', 'РАБОТАЕТ_В'],
    );
  });

  it('keeps a relation whose end differs from a listed entity only in spacing', async () => {
    const extractor = createEntityExtractor({
      timeoutMs: 1000,
      model: modelAnswering({
        entities: [
          { name: 'Maria Silva', type: 'person' },
          { name: 'Acme', type: 'organization' },
        ],
        relations: [{ from: 'Maria  Silva', to: 'Acme', type: 'WORKS_AT' }],
      }),
    });
    const { graph } = await extractor.extract('Maria Silva works at Acme');
    assert.equal(graph.relations.length, 1);
  });
});
