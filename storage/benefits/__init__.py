"""Benefits (福利): the policy pack, who is eligible, applications, confidential registers."""
