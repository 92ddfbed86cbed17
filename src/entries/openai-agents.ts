// `aitrail/openai-agents`: audit OpenAI Agents SDK runs (`@openai/agents`, an optional peer).
export {
  type AgentsApprovalDecisionOptions,
  type AgentsApprovalItem,
  type AgentsRunResult,
  type AgentsRunState,
  type ApproveAgentsToolCallOptions,
  GUARDRAIL_TRIGGERED,
  type InstrumentOpenAIAgentsOptions,
  instrumentOpenAIAgents,
  type OpenAIAgentsInstrumentation,
  type RejectAgentsToolCallOptions,
  UNATTRIBUTED_APPROVER,
} from '../instrument/openai-agents.js';
