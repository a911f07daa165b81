/**
 * The fleet's shared vocabulary (DESIGN.md, "The fleet model"): what the control plane, the device agent
 * and the rollout engine say to each other, so that a version travels in a straight line from the store
 * to a device's desired state, to the agent, and back in its reports. Wire forms (the HTTP API's JSON) are
 * kept apart from these records, in the server and the agent.
 */
package dev.ingot.fleet;
