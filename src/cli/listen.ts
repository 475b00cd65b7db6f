// `switchboard listen` is the SDK's receiver, so the command and `npx switchboard-webhooks listen` are one program.
export { createListenServer, diffLines, failureSchedule, parseListenArgs, runListen, type ListenOptions } from '../../sdk/listen.js';
