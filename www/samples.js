// Sample Segment events: one per situation the bridge handles differently.

export const SAMPLES = [
  {
    id: 'purchase',
    label: 'Purchase with revenue',
    event: {
      type: 'track',
      event: 'Order Completed',
      userId: 'user-1042',
      anonymousId: '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63',
      messageId: 'msg-purchase-1',
      timestamp: '2026-04-01T09:30:00.000Z',
      properties: { order_id: 'o-5531', revenue: 39.95, currency: 'USD', total: 45.9 },
    },
  },
  {
    id: 'signup',
    label: 'Sign-up with value',
    event: {
      type: 'track',
      event: 'Signed Up',
      userId: 'user-2077',
      anonymousId: '0c9d2a77-51f4-4bd2-9c11-84a0e1d5c2b8',
      messageId: 'msg-signup-1',
      timestamp: '2026-04-01T09:31:12Z',
      properties: { plan: 'team', value: '25' },
    },
  },
  {
    id: 'anonymous',
    label: 'Anonymous visitor',
    event: {
      type: 'track',
      event: 'Added to Cart',
      userId: null,
      anonymousId: 'a8e3f1d4-7b2c-4f0e-9d56-3c1b2a9e8f70',
      messageId: 'msg-anon-1',
      timestamp: '2026-04-01T09:32:40Z',
      properties: { product_id: 'p-88', price: 12 },
    },
  },
  {
    id: 'identified',
    label: 'Identified user',
    event: {
      type: 'track',
      event: 'Feature Used',
      userId: 'user-1042',
      anonymousId: '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63',
      messageId: 'msg-identified-1',
      timestamp: '2026-04-01T09:33:05+02:00',
      context: { traits: { email: 'ada@example.com', plan: 'team' } },
      properties: { feature: 'export' },
    },
  },
  {
    id: 'page',
    label: 'Page view',
    event: {
      type: 'page',
      name: 'Pricing',
      userId: 'user-1042',
      anonymousId: '6f1c3a52-9d0e-4c1b-8a47-2e5bd9c01f63',
      messageId: 'msg-page-1',
      timestamp: '2026-04-01T09:34:00Z',
      properties: { path: '/pricing', title: 'Pricing' },
    },
  },
  {
    id: 'broken',
    label: 'Broken event',
    event: {
      type: 'track',
      event: 'Order Completed',
      messageId: 'msg-broken-1',
      timestamp: 'yesterday',
      properties: { revenue: 'lots' },
    },
  },
];
