import { backendParityTests } from './helpers/parity';

backendParityTests('cpu');
