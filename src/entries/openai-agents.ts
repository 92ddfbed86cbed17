// `aitrail/openai-agents`: audit OpenAI Agents SDK runs (`@openai/agents`, an optional peer).
export {
  type AgentsApprovalDecisionOptions,
  type AgentsApprovalItem,
  type AgentsRunResult,
  type AgentsRunState,
  type ApproveAgentsToolCallOptions,
  approveAgentsToolCall,
  GUARDRAIL_TRIGGERED,
  type InstrumentOpenAIAgentsOptions,
  instrumentOpenAIAgents,
  type OpenAIAgentsInstrumentation,
  type RejectAgentsToolCallOptions,
  recordAgentsApprovalRequests,
  rejectAgentsToolCall,
} from '../instrument/openai-agents.js';
