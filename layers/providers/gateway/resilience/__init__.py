"""What guards every provider call: the fallback chain within the deadline, the retry policy, the circuit
breaker and the spend cap shared by every instance, and the spend report."""
