/** Twenty's own webhook documents (front-end fragment and integration-test utilities), verbatim. */
export const WEBHOOK_FRAGMENT = `
  fragment WebhookFragment on Webhook {
    id
    targetUrl
    operations
    description
    secret
  }
`;
export const TWENTY_CREATE = `
  mutation CreateWebhook($input: CreateWebhookInput!) {
    createWebhook(input: $input) {
      ...WebhookFragment
    }
  }
  ${WEBHOOK_FRAGMENT}
`;
export const TWENTY_UPDATE = `
  mutation UpdateWebhook($input: UpdateWebhookInput!) {
    updateWebhook(input: $input) {
      ...WebhookFragment
    }
  }
  ${WEBHOOK_FRAGMENT}
`;
export const TWENTY_GET_ALL = `
  query GetWebhooks {
    webhooks {
      id
      targetUrl
      operations
      description
      secret
    }
  }
`;
export const TWENTY_GET_ONE = `
  query GetWebhook($id: UUID!) {
    webhook(id: $id) {
      id
      targetUrl
      operations
      description
      secret
    }
  }
`;
export const TWENTY_DELETE = `
  mutation DeleteWebhook($id: UUID!) {
    deleteWebhook(id: $id) {
      id
      targetUrl
      operations
      description
      secret
    }
  }
`;
