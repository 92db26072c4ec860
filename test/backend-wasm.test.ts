import { backendParityTests } from './helpers/parity';

backendParityTests('wasm');
