// The official `@anthropic-ai/sdk` npm client against a running corral's Messages API:
// messages.create, messages.stream (events and the final message), tools with tool_choice
// "any" / "tool" and a tool_result round trip, messages.countTokens, and errors.
// Usage: node anthropic_client.mjs http://127.0.0.1:PORT
import Anthropic from '@anthropic-ai/sdk';
import assert from 'node:assert/strict';

const url = process.argv[2];
const client = new Anthropic({ baseURL: url, apiKey: 'corral', maxRetries: 0 });
const system = 'You tell stories.';
const messages = [{ role: 'user', content: 'Once upon a time' }];

// Greedy (temperature 0), so the streamed message says what the whole one says.
const msg = await client.messages.create({ model: 'tiny', max_tokens: 8, temperature: 0, system, messages });
assert.match(msg.id, /^msg_[0-9a-f]{24}$/);
assert.equal(msg.type, 'message');
assert.equal(msg.role, 'assistant');
assert.equal(msg.model, 'tiny');
assert.equal(msg.content.length, 1);
assert.equal(msg.content[0].type, 'text');
assert.ok(msg.content[0].text.length > 0, 'the message has text');
assert.equal(msg.stop_reason, 'max_tokens');
assert.equal(msg.stop_sequence, null);
assert.equal(msg.usage.output_tokens, 8);
assert.ok(msg.usage.input_tokens > 0);

const stream = client.messages.stream({ model: 'tiny', max_tokens: 8, temperature: 0, system, messages });
let streamed = '';
const seen = [];
stream.on('text', (t) => { streamed += t; });
stream.on('streamEvent', (e) => { seen.push(e.type); });
const final = await stream.finalMessage();
assert.equal(streamed, msg.content[0].text, 'streamed text equals the whole message text');
assert.deepEqual(final.content, msg.content);
assert.equal(final.stop_reason, 'max_tokens');
assert.equal(final.usage.output_tokens, 8);
assert.equal(final.usage.input_tokens, msg.usage.input_tokens);
assert.equal(seen[0], 'message_start');
assert.deepEqual(seen.slice(-2), ['message_delta', 'message_stop']);
assert.ok(seen.includes('content_block_start') && seen.includes('content_block_stop'));

// countTokens: the prompt the same request takes.
const count = await client.messages.countTokens({ model: 'tiny', system, messages });
assert.equal(count.input_tokens, msg.usage.input_tokens);

// Tools: a forced call on tiny-tools (Qwen's <tool_call> template) whose input validates.
const tools = [{
  name: 'get_weather',
  description: 'Current weather in a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
  },
}, {
  name: 'get_time',
  input_schema: { type: 'object', properties: { zone: { type: 'integer' } }, required: ['zone'] },
}];
const ask = [{ role: 'user', content: 'What is the weather in Paris?' }];
function checkWeatherCall(block) {
  assert.equal(block.type, 'tool_use');
  assert.match(block.id, /^toolu_/);
  assert.equal(block.name, 'get_weather');
  assert.equal(typeof block.input.city, 'string');
  assert.ok(block.input.city.length <= 12, `city within maxLength (${block.input.city})`);
  assert.ok(['celsius', 'fahrenheit'].includes(block.input.unit), `unit from the enum (${block.input.unit})`);
}
const call = await client.messages.create({
  model: 'tiny-tools', max_tokens: 60, tools: [tools[0]], tool_choice: { type: 'any' }, messages: ask,
});
assert.equal(call.stop_reason, 'tool_use');
assert.equal(call.content.length, 1);
checkWeatherCall(call.content[0]);

const streamedCall = await client.messages.stream({
  model: 'tiny-tools', max_tokens: 60, tools, tool_choice: { type: 'tool', name: 'get_weather' }, messages: ask,
}).finalMessage();
assert.equal(streamedCall.stop_reason, 'tool_use');
assert.equal(streamedCall.content.length, 1);
checkWeatherCall(streamedCall.content[0]);

// The agent loop's next turn: the call goes back with its result.
const answer = await client.messages.create({
  model: 'tiny-tools', max_tokens: 6, tools,
  messages: [...ask, { role: 'assistant', content: call.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.content[0].id, content: '18 C and sunny' }] }],
});
assert.equal(answer.type, 'message');
assert.ok(answer.usage.input_tokens > call.usage.input_tokens, 'the call and its result are in the prompt');

await assert.rejects(client.messages.create({ model: 'no-such-model', max_tokens: 4, messages }),
  (e) => e instanceof Anthropic.NotFoundError && e.error?.error?.type === 'not_found_error');
await assert.rejects(client.messages.create({
  model: 'tiny', max_tokens: 4,
  messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }] }],
}), (e) => e instanceof Anthropic.BadRequestError && /not supported yet/.test(e.message));

console.log('anthropic client: ok');
