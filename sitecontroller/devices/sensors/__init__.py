"""Sensors: Pi CPU temperature, BME680, generic I2C temperature, ADC analog inputs, NTC thermistors."""
