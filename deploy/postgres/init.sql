-- One database per service (DESIGN.md: no service reads another's tables).
CREATE DATABASE fupin_gateway;
CREATE DATABASE fupin_registry;
CREATE DATABASE fupin_relief;
