/**
 * The client side of the control plane's HTTP API (docs/api.md) that every caller shares: the operator commands and
 * the device agent. Its error document becomes an {@link dev.ingot.error.IngotException}, a private CA in a PEM file
 * becomes the trust of a JDK {@link java.net.http.HttpClient}, and a control plane URL is checked by the one rule
 * provisioning applies (https, or http to loopback only).
 */
package dev.ingot.http;
