// The official `openai` npm client against a running corral's /v1 API: chat (streaming and
// not), models.list, models.retrieve, embeddings and a text completion.
// Usage: node openai_client.mjs http://127.0.0.1:PORT
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const url = process.argv[2];
const openai = new OpenAI({ baseURL: url + '/v1', apiKey: 'corral', maxRetries: 0 });
const messages = [{ role: 'system', content: 'You tell stories.' }, { role: 'user', content: 'Once upon a time' }];

const chat = await openai.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, seed: 1 });
assert.ok(chat.id.startsWith('chatcmpl-'));
assert.equal(chat.object, 'chat.completion');
assert.equal(chat.choices[0].message.role, 'assistant');
assert.ok(chat.choices[0].message.content.length > 0, 'chat returned text');
assert.equal(chat.choices[0].finish_reason, 'length');
assert.equal(chat.usage.completion_tokens, 8);

const stream = await openai.chat.completions.create({
  model: 'tiny', messages, max_tokens: 8, seed: 1, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let finish = null;
let usage = null;
for await (const chunk of stream) {
  if (chunk.choices.length > 0) {
    streamed += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}
assert.equal(streamed, chat.choices[0].message.content, 'streamed text equals the non-streamed text');
assert.equal(finish, 'length');
assert.equal(usage.completion_tokens, 8);

const models = await openai.models.list();
const ids = models.data.map((m) => m.id);
assert.ok(ids.includes('tiny:latest'), `models.list has tiny:latest (${ids})`);

const model = await openai.models.retrieve('tiny:latest');
assert.equal(model.id, 'tiny:latest');
assert.equal(model.owned_by, 'library');

// The client asks for base64 by default and decodes it back into floats.
const emb = await openai.embeddings.create({ model: 'tiny', input: ['hello', 'world'] });
assert.equal(emb.data.length, 2);
assert.equal(emb.data[0].embedding.length, 128);
const norm = emb.data[0].embedding.reduce((s, x) => s + x * x, 0);
assert.ok(Math.abs(norm - 1) < 1e-4, `unit vector (${norm})`);

const completion = await openai.completions.create({ model: 'tiny', prompt: 'The cat', max_tokens: 6, seed: 2 });
assert.equal(completion.object, 'text_completion');
assert.ok(completion.choices[0].text.length > 0);

await assert.rejects(openai.chat.completions.create({ model: 'no-such-model', messages }),
  (e) => e instanceof OpenAI.NotFoundError && /not found/.test(e.message));

console.log('openai client: ok');
