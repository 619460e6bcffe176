// The official `ollama` npm client against a running corral: generate (streaming and not),
// chat (streaming and not), list, show, ps. Usage: node ollama_client.mjs http://127.0.0.1:PORT
import { Ollama } from 'ollama';
import assert from 'node:assert/strict';

const host = process.argv[2];
const ollama = new Ollama({ host });

const gen = await ollama.generate({ model: 'tiny', prompt: 'Once upon a time', options: { num_predict: 8, seed: 1 } });
assert.equal(gen.done, true);
assert.ok(gen.response.length > 0, 'generate returned text');
assert.ok(gen.eval_count > 0);

let streamed = '';
let last;
for await (const part of await ollama.generate({ model: 'tiny', prompt: 'Once upon a time', stream: true, options: { num_predict: 8, seed: 1 } })) {
  streamed += part.response;
  last = part;
}
assert.equal(last.done, true);
assert.equal(streamed, gen.response, 'streamed text equals the non-streamed text');

const chat = await ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'Hello' }], options: { num_predict: 6 } });
assert.equal(chat.message.role, 'assistant');
assert.equal(chat.done, true);

let chatText = '';
for await (const part of await ollama.chat({ model: 'tiny', messages: [{ role: 'user', content: 'Hello' }], stream: true, options: { num_predict: 6, seed: 3 } })) {
  chatText += part.message.content;
}
assert.ok(chatText.length > 0);

const list = await ollama.list();
const names = list.models.map((m) => m.name);
assert.ok(names.includes('tiny:latest'), `list has tiny:latest (${names})`);

const show = await ollama.show({ model: 'tiny' });
assert.ok(show.modelfile.includes('FROM'));

const ps = await ollama.ps();
assert.ok(ps.models.some((m) => m.name === 'tiny:latest'));

await assert.rejects(ollama.generate({ model: 'no-such-model', prompt: 'x' }), /not found/);

console.log('ollama client: ok');
