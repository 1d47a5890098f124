// The scripted model's answers for the end-to-end tests (`binnacle-testkit llm --script`). A conversation
// is chosen by a substring of its first user message; turn N answers the request holding N assistant
// messages.

const words = (s) => s.split(/(?<= )/);

/** A slowly streamed answer (for reload and reconnect tests). */
export const SLOW_TEXT =
  'Here is a long answer that streams slowly, one word at a time, so that the page can be reloaded ' +
  'or cut off while it is still arriving, and it must still end exactly once: the end.';

/** The script. */
export const script = {
  conversations: [
    {
      when_user_says: 'which pods run in shop',
      turns: [
        {
          thinking: ['The user ', 'wants the pods ', 'of shop.'],
          text: ['Let me list the pods in **shop**.'],
          tool_calls: [{ name: 'resources_list', arguments: { kind: 'pods', namespace: 'shop' } }],
          usage: [100, 20],
          delay_ms_between_chunks: 20,
        },
        {
          text: [
            'The **shop** namespace ',
            'has healthy pods.\n\n',
            '| app | state |\n|---|---|\n| cart | running |\n\n',
            '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>',
            '[click](javascript:window.__xss=3) ',
            'All good.',
          ],
          usage: [300, 12],
          delay_ms_between_chunks: 60,
        },
      ],
    },
    {
      when_user_says: 'scale cart to 4',
      turns: [
        {
          text: ['I will scale ', 'cart to 4.'],
          tool_calls: [{ name: 'workload_scale', arguments: { name: 'cart', namespace: 'shop', replicas: 4 } }],
          usage: [120, 15],
        },
        { text: ['Done: cart ', 'now has 4 replicas.'], usage: [200, 10] },
      ],
    },
    {
      when_user_says: 'scale cart to 7',
      turns: [
        {
          text: ['I will scale cart to 7.'],
          tool_calls: [{ name: 'workload_scale', arguments: { name: 'cart', namespace: 'shop', replicas: 7 } }],
          usage: [120, 15],
        },
        { text: ['Understood: ', 'cart stays as it is.'], usage: [200, 10] },
      ],
    },
    {
      when_user_says: 'scale cart to 2',
      turns: [
        {
          text: ['I will scale cart to 2.'],
          tool_calls: [{ name: 'workload_scale', arguments: { name: 'cart', namespace: 'shop', replicas: 2 } }],
          usage: [120, 15],
        },
        { text: ['Done.'], usage: [200, 10] },
      ],
    },
    {
      when_user_says: 'the ghost pod',
      turns: [
        { tool_calls: [{ name: 'resource_get', arguments: { kind: 'pods', name: 'ghost', namespace: 'shop' } }], usage: [80, 10] },
        { text: ['There is no pod called ghost in shop.'], usage: [90, 8] },
      ],
    },
    { when_user_says: 'hang', turns: [{ text: ['waiting ', 'for ', 'ever'], hang: true }] },
    { when_user_says: 'slow story', turns: [{ text: words(SLOW_TEXT), delay_ms_between_chunks: 250, usage: [50, 40] }] },
    { when_user_says: 'flaky network', turns: [{ text: words(SLOW_TEXT), delay_ms_between_chunks: 150, usage: [50, 40] }] },
    { turns: [{ text: ['I can only answer the scripted questions.'] }] },
  ],
};
